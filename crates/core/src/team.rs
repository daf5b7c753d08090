//! A team of threads kept alive across simulation steps.
//!
//! A step of a 100,000-neuron network takes some 50-100 µs, and every step
//! ends in a barrier (the next step reads the spikes of all chunks). Handing
//! each step to rayon costs about 2 context switches per step, since its
//! idle workers go to sleep between steps: at 2 threads CUBA ran only 1.36x
//! faster than at 1. The team's workers instead spin briefly on an epoch
//! counter between steps, so a step is handed over in well under a
//! microsecond, and sleep only when the caller has stopped stepping.
//!
//! Tasks are claimed from a shared counter, so which thread runs a task
//! varies from run to run; callers make each task's result independent of
//! that (a chunk owns its state and random stream), which keeps results
//! bit-identical for any number of threads.

use std::cell::UnsafeCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long an idle worker spins, then yields, before it sleeps. The spin
/// covers the gap between two steps (the caller's monitors), the yields a
/// progress report, and sleeping frees the core once the run has ended.
const SPIN: Duration = Duration::from_micros(50);
const YIELD: Duration = Duration::from_millis(2);

/// The job of one epoch: `tasks` calls of `run`, by whichever threads claim them.
#[derive(Clone, Copy)]
struct Job {
    run: *const (dyn Fn(usize) + Sync),
    tasks: usize,
}

struct Shared {
    /// Bumped once per job (and at shutdown); workers wait for it to change.
    epoch: AtomicU64,
    /// Written by the caller before it bumps `epoch`, read by the workers
    /// after they see the bump, and not touched again until every worker has
    /// reported in `finished`.
    job: UnsafeCell<Job>,
    next_task: AtomicUsize,
    /// Workers done with the current job.
    finished: AtomicUsize,
    sleeping: AtomicUsize,
    panicked: AtomicBool,
    shutdown: AtomicBool,
}

// SAFETY: `job` is only written while no worker reads it (see `Team::run`),
// and the closure it points to is `Sync`.
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

/// `workers` threads plus the caller's own, for jobs of independent tasks.
pub struct Team {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Team {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Team({} threads)", self.workers.len() + 1)
    }
}

impl Team {
    /// A team of `threads` threads in all: the caller and `threads - 1` workers.
    pub fn new(threads: usize) -> Team {
        fn nothing(_: usize) {}
        let nothing: &'static (dyn Fn(usize) + Sync) = &nothing;
        let shared = Arc::new(Shared {
            epoch: AtomicU64::new(0),
            job: UnsafeCell::new(Job { run: nothing, tasks: 0 }),
            next_task: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            sleeping: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
        });
        let workers = (1..threads.max(1))
            .map(|i| {
                let shared = Arc::clone(&shared);
                thread::Builder::new()
                    .name(format!("cognitron-step-{i}"))
                    .spawn(move || work(&shared))
                    .expect("spawning a step thread")
            })
            .collect();
        Team { shared, workers }
    }

    /// Calls `f` on every item, spread over the team; `order` lists the
    /// item indices in the order they are handed out (largest first balances
    /// the load best).
    pub fn for_each_mut<T: Send>(&self, items: &mut [T], order: &[usize], f: impl Fn(&mut T) + Sync) {
        assert!(order.iter().all(|&i| i < items.len()), "order indexes the items");
        debug_assert!(
            {
                let mut seen = vec![false; items.len()];
                order.iter().all(|&i| !std::mem::replace(&mut seen[i], true))
            },
            "order lists each item at most once"
        );
        let base = ItemsPtr(items.as_mut_ptr());
        let task = |t: usize| {
            // SAFETY: `order` holds distinct in-bounds indices and each task
            // index is claimed by exactly one thread, so each item is borrowed
            // mutably once, while `items` is borrowed by this call.
            let item = unsafe { &mut *base.get().add(order[t]) };
            f(item);
        };
        self.run(order.len(), &task);
    }

    /// Runs `task(0..tasks)` on the team and returns when all are done.
    fn run(&self, tasks: usize, task: &(dyn Fn(usize) + Sync)) {
        let shared = &*self.shared;
        if self.workers.is_empty() {
            (0..tasks).for_each(task);
            return;
        }
        // SAFETY: every worker finished the previous job (this thread waited
        // for them below), so none reads `job` now. The pointer's lifetime is
        // erased, but it is only used until this call returns: the workers
        // report in `finished` after their last use.
        unsafe {
            let run: *const (dyn Fn(usize) + Sync + '_) = task;
            *shared.job.get() = Job {
                run: std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), *const (dyn Fn(usize) + Sync)>(run),
                tasks,
            };
        }
        shared.next_task.store(0, Ordering::Relaxed);
        shared.finished.store(0, Ordering::Relaxed);
        shared.epoch.fetch_add(1, Ordering::SeqCst);
        if shared.sleeping.load(Ordering::SeqCst) > 0 {
            self.workers.iter().for_each(|w| w.thread().unpark());
        }
        // A panic here must not unwind past the workers' use of `task`.
        let own = catch_unwind(AssertUnwindSafe(|| claim_tasks(shared, task)));
        let mut waiting = Wait::new();
        while shared.finished.load(Ordering::Acquire) < self.workers.len() {
            waiting.pause();
        }
        if let Err(panic) = own {
            std::panic::resume_unwind(panic);
        }
        if shared.panicked.swap(false, Ordering::Relaxed) {
            panic!("a simulation step panicked in a step thread");
        }
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.shared.epoch.fetch_add(1, Ordering::SeqCst);
        for worker in self.workers.drain(..) {
            worker.thread().unpark();
            let _ = worker.join();
        }
    }
}

struct ItemsPtr<T>(*mut T);

// Not derived: that would ask for `T: Copy`.
impl<T> Clone for ItemsPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for ItemsPtr<T> {}

impl<T> ItemsPtr<T> {
    // A method, not a field access, so that closures capture the whole
    // wrapper (which is Sync) rather than the raw pointer field.
    fn get(self) -> *mut T {
        self.0
    }
}

// SAFETY: the pointer is only dereferenced as described in `for_each_mut`.
unsafe impl<T: Send> Sync for ItemsPtr<T> {}
unsafe impl<T: Send> Send for ItemsPtr<T> {}

fn claim_tasks(shared: &Shared, task: &(dyn Fn(usize) + Sync)) {
    // SAFETY: read after the epoch bump that published it (SeqCst/Acquire).
    let tasks = unsafe { (*shared.job.get()).tasks };
    loop {
        let t = shared.next_task.fetch_add(1, Ordering::Relaxed);
        if t >= tasks {
            break;
        }
        task(t);
    }
}

fn work(shared: &Shared) {
    let mut seen = 0;
    loop {
        let mut waiting = Wait::new();
        loop {
            let epoch = shared.epoch.load(Ordering::Acquire);
            if epoch != seen {
                seen = epoch;
                break;
            }
            if waiting.elapsed() < SPIN + YIELD {
                waiting.pause();
                continue;
            }
            // Announce the sleep before the last look at the epoch, so that
            // the caller, which bumps the epoch before it looks at
            // `sleeping`, either is seen here or sees this thread and wakes it.
            shared.sleeping.fetch_add(1, Ordering::SeqCst);
            if shared.epoch.load(Ordering::SeqCst) == seen {
                thread::park_timeout(Duration::from_millis(100));
            }
            shared.sleeping.fetch_sub(1, Ordering::SeqCst);
        }
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        // SAFETY: see `Team::run`: the job stays valid until this thread
        // increments `finished`.
        let job = unsafe { *shared.job.get() };
        let task = unsafe { &*job.run };
        if catch_unwind(AssertUnwindSafe(|| claim_tasks(shared, task))).is_err() {
            shared.panicked.store(true, Ordering::Relaxed);
        }
        shared.finished.fetch_add(1, Ordering::Release);
    }
}

/// Spin, then yield: for waits that are usually a few microseconds.
struct Wait {
    started: Instant,
    spins: u32,
}

impl Wait {
    fn new() -> Wait {
        Wait {
            started: Instant::now(),
            spins: 0,
        }
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    fn pause(&mut self) {
        self.spins += 1;
        // Reading the clock costs ~20 ns: look at it every 64 spins.
        if self.spins < 64 || !self.spins.is_multiple_of(64) || self.elapsed() < SPIN {
            std::hint::spin_loop();
        } else {
            thread::yield_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_visited_once_per_job() {
        for threads in [1, 2, 3] {
            let team = Team::new(threads);
            let mut items = vec![0u32; 37];
            let order: Vec<usize> = (0..items.len()).rev().collect();
            for _ in 0..1000 {
                team.for_each_mut(&mut items, &order, |x| *x += 1);
            }
            assert!(items.iter().all(|&x| x == 1000), "{threads} threads: {items:?}");
            // After a pause long enough for the workers to sleep, jobs still run.
            thread::sleep(SPIN + YIELD + Duration::from_millis(5));
            team.for_each_mut(&mut items, &order[..10], |x| *x += 1);
            assert_eq!(items.iter().filter(|&&x| x == 1001).count(), 10);
        }
    }

    #[test]
    fn a_panicking_task_is_reported_to_the_caller() {
        let team = Team::new(2);
        let mut items = vec![0u32; 8];
        let order: Vec<usize> = (0..8).collect();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            team.for_each_mut(&mut items, &order, |x| {
                if *x == 0 {
                    panic!("task failed");
                }
            })
        }));
        assert!(outcome.is_err());
    }
}
