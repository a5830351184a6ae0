import { useEffect, useRef } from 'react';

interface Props {
  /** RGBA8, width*height*4 */
  rgba: Uint8ClampedArray;
  width: number;
  height: number;
  /** accessible name; the canvas is an image */
  label: string;
  className?: string;
  pixelated?: boolean;
  testId?: string;
}

/** Draws an RGBA buffer; scaled by CSS. */
export function PixelCanvas({
  rgba,
  width,
  height,
  label,
  className = '',
  pixelated = false,
  testId,
}: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
  }, [rgba, width, height]);
  return (
    <canvas
      ref={ref}
      width={width}
      height={height}
      role="img"
      aria-label={label}
      data-testid={testId}
      className={`block h-auto w-full bg-slate-200 ${pixelated ? '[image-rendering:pixelated]' : ''} ${className}`}
    />
  );
}
