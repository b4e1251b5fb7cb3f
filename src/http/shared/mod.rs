//! What the API and the gateway share, with one set of rules: who sends a
//! request (`session`), which repositories a caller may see
//! (`visibility`), the headers of writes (`write_headers`), how entries go
//! out as HTTP (`entry_headers`), how bodies come in (`body`) and how fast (`deadline`) and which
//! text URLs may carry (`text`). Neither
//! driver imports the other (`make boundaries` checks it); both import this.

pub mod body;
pub mod cause;
pub mod dates;
pub mod deadline;
pub mod entry_headers;
pub mod login_throttle;
pub mod session;
pub mod text;
pub mod visibility;
pub mod write_headers;
