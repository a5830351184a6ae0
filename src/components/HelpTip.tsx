import type { ReactNode } from 'react';

interface Props {
  /** id of the help text (unique on the page): the button's aria-describedby */
  id: string;
  /** the visible label, e.g. a column name */
  label: ReactNode;
  children: ReactNode;
  testId?: string;
}

/**
 * A label that explains itself: a focusable button described by its help text (screen readers read it with the
 * label), and the same text shown beside it on hover and on keyboard focus — not only on hover, so keyboard users
 * see it too.
 */
export function HelpTip({ id, label, children, testId }: Props) {
  return (
    <span className="group relative inline-block">
      <button
        type="button"
        aria-describedby={id}
        // Escape hides the text again without moving elsewhere (WCAG 1.4.13: dismissible)
        onKeyDown={(e) => {
          if (e.key === 'Escape') e.currentTarget.blur();
        }}
        className="cursor-help rounded underline decoration-dotted underline-offset-2 focus-visible:ring-2 focus-visible:ring-sky-500 focus-visible:outline-none"
        data-testid={testId}
      >
        {label}
        <span
          aria-hidden="true"
          className="ml-0.5 inline-flex h-3.5 w-3.5 items-center justify-center rounded-full border border-slate-400 align-text-top text-[9px] leading-none text-slate-500"
        >
          ?
        </span>
      </button>
      <span
        id={id}
        role="tooltip"
        className="invisible absolute top-full left-0 z-20 mt-1 w-64 rounded border border-slate-300 bg-white p-2 text-left text-xs font-normal whitespace-normal text-slate-800 shadow-lg group-focus-within:visible group-hover:visible"
      >
        {children}
      </span>
    </span>
  );
}
