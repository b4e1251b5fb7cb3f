// Small inline icons (no icon font, no request).

const base = { width: 16, height: 16, viewBox: "0 0 16 16", "aria-hidden": true, className: "icon" } as const;

export const FolderIcon = () => (
  <svg {...base}>
    <path d="M1.5 3.5h4l1.5 1.5h7.5v8h-13z" fill="#f2c14e" stroke="#b8860b" />
  </svg>
);

export const FileIcon = () => (
  <svg {...base}>
    <path d="M3.5 1.5h6l3 3v10h-9z" fill="#fff" stroke="#5d6678" />
    <path d="M9.5 1.5v3h3" fill="none" stroke="#5d6678" />
  </svg>
);

export const TagIcon = () => (
  <svg {...base}>
    <path d="M1.5 1.5h6l7 7-6 6-7-7z" fill="#e7ecf5" stroke="#5d6678" />
    <circle cx="5" cy="5" r="1.2" fill="#5d6678" />
  </svg>
);
