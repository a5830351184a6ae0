/**
 * A visually hidden `<input type="file">` that picks a whole folder; a visible button calls
 * `inputRef.current.click()`, so the input itself stays out of the tab order.
 */
export function HiddenFolderInput({
  inputRef,
  label,
  testId,
  onFiles,
}: {
  inputRef: { current: HTMLInputElement | null };
  label: string;
  testId: string;
  onFiles: (files: FileList) => void;
}) {
  return (
    <input
      ref={(el) => {
        inputRef.current = el;
        // not in React's DOM typings: set as attributes
        el?.setAttribute('webkitdirectory', '');
        el?.setAttribute('directory', '');
      }}
      type="file"
      multiple
      className="sr-only"
      tabIndex={-1}
      aria-label={label}
      data-testid={testId}
      onChange={(e) => {
        if (e.target.files?.length) onFiles(e.target.files);
        // so picking the same folder again fires a change
        e.target.value = '';
      }}
    />
  );
}
