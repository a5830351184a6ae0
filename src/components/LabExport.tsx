import { useState } from 'react';
import {
  exportIds,
  exportImageResults,
  exportPicture,
  exportSessionResults,
  type ExportFile,
} from '../store/labExport';
import { download } from './download';

/** Export buttons of the token lab: edited ids (JSON, .npy), the re-decoded picture (PNG), results JSON. */
export function LabExport({ imageId, ready }: { imageId: string; ready: boolean }) {
  // the last save or failure, for the live region (local UI state: it describes this panel's own clicks)
  const [said, setSaid] = useState<{ text: string; error: boolean }>({ text: '', error: false });
  const save = async (make: () => ExportFile | Promise<ExportFile>) => {
    try {
      const f = await make();
      download(f);
      const size = typeof f.bytes === 'string' ? new TextEncoder().encode(f.bytes).length : f.bytes.length;
      setSaid({ text: `Saved ${f.name} (${(size / 1024).toFixed(1)} KiB).`, error: false });
    } catch (e) {
      setSaid({ text: e instanceof Error ? e.message : String(e), error: true });
    }
  };
  return (
    <fieldset className="mt-3 min-w-0 text-xs" data-testid="lab-export">
      <legend className="font-medium text-slate-800">Export</legend>
      <div className="mt-1 flex flex-wrap gap-2">
        <button type="button" className="btn" onClick={() => void save(() => exportIds(imageId, 'json'))}>
          Edited ids (JSON)
        </button>
        <button type="button" className="btn" onClick={() => void save(() => exportIds(imageId, 'int32'))}>
          Edited ids (NumPy .npy, int32)
        </button>
        <button type="button" className="btn" onClick={() => void save(() => exportIds(imageId, 'int64'))}>
          Edited ids (NumPy .npy, int64)
        </button>
        <button
          type="button"
          className="btn"
          disabled={!ready}
          onClick={() => void save(() => exportPicture(imageId))}
        >
          Re-decoded picture (PNG)
        </button>
        <button type="button" className="btn" onClick={() => void save(() => exportImageResults(imageId))}>
          Results of this image (JSON)
        </button>
        <button type="button" className="btn" onClick={() => void save(exportSessionResults)}>
          Results of every image (JSON)
        </button>
      </div>
      <p className="mt-1 text-slate-500">
        .npy files hold the ids as a [rows, columns] array (np.load); the results hold ids, embeddings, scores
        per prompt and the model&apos;s id and manifest sha256.
      </p>
      <p
        role={said.error ? 'alert' : 'status'}
        aria-live={said.error ? 'assertive' : 'polite'}
        className={said.error ? 'mt-1 rounded bg-red-50 p-1 text-red-800' : 'mt-1 text-slate-600'}
        data-testid="lab-export-status"
      >
        {said.text}
      </p>
    </fieldset>
  );
}
