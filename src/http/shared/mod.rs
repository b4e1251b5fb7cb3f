//! What the API and the gateway share, with one set of rules: who sends a
//! request (`session`), which repositories a caller may see
//! (`visibility`), the headers of writes (`write_headers`), how entries go
//! out as HTTP (`entry_headers`) and how bodies come in (`body`). Neither
//! driver imports the other (`make boundaries` checks it); both import this.

pub mod body;
pub mod entry_headers;
pub mod session;
pub mod visibility;
pub mod write_headers;
