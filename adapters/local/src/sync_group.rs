//! One `syncfs(2)` shared by concurrent small writes (Linux).
//!
//! A small write (see `file::write_whole_sync`) that creates a new file
//! writes it and renames it into place without syncing, then waits here:
//! the first writer to find no sync running starts a round, which takes
//! every writer queued, syncs the whole file system once (data, inodes,
//! directories, then a cache flush) and answers them; writers that queue
//! meanwhile wait for the next round, so a writer is answered only by a sync
//! that started after its rename (docs/operating.md, Durability).
//!
//! Write-back errors: `syncfs` reports those that happened since the last
//! call on the same descriptor, wherever their file was; a writer's error may
//! therefore be reported by a round before its own (one running while it
//! wrote). Each writer notes, before it writes, the first round that may
//! see its writes (the one running, else the next), and fails if that round
//! or a later one reported an error: a failure may be blamed on writers it
//! did not touch, never missed.

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// What syncs the file system (a stand-in in tests).
type SyncFn = fn(&std::fs::File) -> io::Result<()>;

/// `statfs` magic numbers of the file systems whose `syncfs` writes and
/// flushes everything an `fsync` of each file would: ext2/3/4, XFS, Btrfs,
/// tmpfs (nothing to flush).
const SAFE_FILE_SYSTEMS: [u64; 4] = [0xEF53, 0x5846_5342, 0x9123_683E, 0x0102_1994];

/// Whether a Linux kernel of `release` (`uname -r`) reports write-back
/// errors from `syncfs` (5.8 and later).
fn reports_errors(release: &str) -> bool {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor) >= (5, 8)
}

/// The rounds of one block store.
#[derive(Clone, Debug)]
pub(crate) struct SyncGroup {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The store's root, opened once: `syncfs` reports errors to it since
    /// its previous call.
    handle: std::fs::File,
    /// The file system (device) it syncs.
    device: u64,
    sync: SyncFn,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    queue: Vec<oneshot::Sender<()>>,
    running: bool,
    /// Rounds started so far (the running one included).
    started: u64,
    /// The last round whose sync failed (0: none), and why.
    failed: u64,
    why: String,
}

/// Taken before a write: the first round that may report its errors.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticket(u64);

impl SyncGroup {
    /// A group syncing the file system `root` is on; `None` (writes then
    /// sync each file) where a shared `syncfs` is not known to be as safe as
    /// a sync of each file: kernels before Linux 5.8 (`syncfs` did not
    /// report write-back errors) and file systems other than ext2/3/4, XFS,
    /// Btrfs and tmpfs (a FUSE or network file system may not pass
    /// `syncfs` on to where the data is, where it does pass `fsync`).
    pub(crate) fn open(root: &Path) -> io::Result<Option<Self>> {
        #[cfg(target_os = "linux")]
        {
            let group = Self::with(root, |f| rustix::fs::syncfs(f).map_err(io::Error::from))?;
            let kind = rustix::fs::fstatfs(&group.inner.handle)?.f_type as u64;
            let release = rustix::system::uname();
            let release = release.release().to_string_lossy();
            Ok((SAFE_FILE_SYSTEMS.contains(&kind) && reports_errors(&release)).then_some(group))
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = root;
            Ok(None)
        }
    }

    fn with(root: &Path, sync: SyncFn) -> io::Result<Self> {
        use std::os::unix::fs::MetadataExt;
        let handle = std::fs::File::open(root)?;
        let device = handle.metadata()?.dev();
        Ok(Self {
            inner: Arc::new(Inner {
                handle,
                device,
                sync,
                state: Mutex::new(State::default()),
            }),
        })
    }

    /// The file system this group syncs: a file elsewhere (another mount
    /// under the root) is not covered, and syncs itself.
    pub(crate) fn device(&self) -> u64 {
        self.inner.device
    }

    /// Rounds started so far.
    #[cfg(test)]
    pub(crate) fn rounds(&self) -> u64 {
        self.lock().started
    }

    /// To take before writing.
    pub(crate) fn ticket(&self) -> Ticket {
        let s = self.lock();
        // Rounds up to `started` ended before this write, unless the last
        // is still running (or between rounds: counted as running).
        Ticket(s.started + u64::from(!s.running))
    }

    /// Returns once a sync that started after this call has ended: `Ok` if
    /// no round that may hold an error of writes after `ticket` failed.
    pub(crate) async fn wait(&self, ticket: Ticket) -> io::Result<()> {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut s = self.lock();
            s.queue.push(tx);
            !std::mem::replace(&mut s.running, true)
        };
        if start {
            let round = Round(self.clone(), true);
            tokio::task::spawn_blocking(move || round.0.clone().run(round));
        }
        rx.await
            .map_err(|_| io::Error::other("the file system sync was abandoned"))?;
        let s = self.lock();
        if s.failed != 0 && s.failed >= ticket.0 {
            return Err(io::Error::other(format!(
                "syncing the file system failed: {}",
                s.why
            )));
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic under the lock leaves plain values: still consistent.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs rounds until no writer waits.
    fn run(&self, mut round: Round) {
        loop {
            let (waiting, number) = {
                let mut s = self.lock();
                if s.queue.is_empty() {
                    s.running = false;
                    round.1 = false;
                    return;
                }
                s.started += 1;
                (std::mem::take(&mut s.queue), s.started)
            };
            if let Err(e) = (self.inner.sync)(&self.inner.handle) {
                let mut s = self.lock();
                s.failed = number;
                s.why = e.to_string();
            }
            for w in waiting {
                let _ = w.send(());
            }
        }
    }
}

/// The round loop under way: if it ends without emptying the queue (a
/// panic), it marks none running and drops the queued writers' answers, so
/// that they hear "abandoned" instead of waiting forever.
struct Round(SyncGroup, bool);

impl Drop for Round {
    fn drop(&mut self) {
        if self.1 {
            let stranded = {
                let mut s = self.0.lock();
                s.running = false;
                std::mem::take(&mut s.queue)
            };
            drop(stranded);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    static SYNCS: AtomicUsize = AtomicUsize::new(0);
    static ENDED: AtomicUsize = AtomicUsize::new(0);

    fn counted(_: &std::fs::File) -> io::Result<()> {
        SYNCS.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(5));
        ENDED.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    static FAIL: AtomicBool = AtomicBool::new(true);

    fn failing_while_asked(_: &std::fs::File) -> io::Result<()> {
        if FAIL.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected"));
        }
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_share_rounds() {
        let dir = tempfile::tempdir().unwrap();
        let group = SyncGroup::with(dir.path(), counted).unwrap();
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let g = group.clone();
                tokio::spawn(async move {
                    // A sync that started after this one ended before the
                    // answer.
                    let started = SYNCS.load(Ordering::SeqCst);
                    g.wait(g.ticket()).await?;
                    assert!(
                        ENDED.load(Ordering::SeqCst) > started,
                        "answered before a sync"
                    );
                    Ok::<_, io::Error>(())
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let syncs = SYNCS.load(Ordering::SeqCst);
        assert!((1..32).contains(&syncs), "{syncs} syncs for 64 writers");
    }

    #[test]
    fn only_kernels_that_report_errors() {
        for (release, ok) in [
            ("6.8.0-49-generic", true),
            ("5.8.0", true),
            ("5.10.0-cloud", true),
            ("5.7.19", false),
            ("4.19.0-26-amd64", false),
            ("", false),
        ] {
            assert_eq!(reports_errors(release), ok, "{release}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_sync_fails_its_writers_and_not_later_ones() {
        let dir = tempfile::tempdir().unwrap();
        let group = SyncGroup::with(dir.path(), failing_while_asked).unwrap();
        let before = group.ticket();
        let err = group.wait(before).await.unwrap_err();
        assert!(err.to_string().contains("injected"), "{err}");
        FAIL.store(false, Ordering::SeqCst);
        // A writer that wrote before the failed round ended is failed even
        // when a later round goes well: the error may be its own.
        assert!(group.wait(before).await.is_err());
        // One that wrote after it ended is answered by the good sync.
        while group.lock().running {
            tokio::task::yield_now().await;
        }
        let after = group.ticket();
        group.wait(after).await.unwrap();
    }
}
