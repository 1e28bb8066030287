//! When a scheduled tick began, as far as feed claims go: instances whose
//! clocks differ fire one tick at different moments and must still poll a
//! feed once per tick.

/// Ticks of one schedule come at least this far apart, and a scheduler
/// fires a tick within this of its time (tokio-cron-scheduler looks every
/// half second): see [`tick_start`].
const TICK_SLACK: std::time::Duration = std::time::Duration::from_secs(1);

/// When the tick of a schedule that fires now began, as far as claims go: a
/// feed claimed at or after it was polled in this tick (by an instance
/// whose clock fired the tick earlier), one claimed before it in an
/// earlier tick. That is [`TICK_SLACK`] after the schedule's `previous`
/// tick on this machine, so instances whose clocks are seconds apart, and
/// so fire each tick at other moments, still poll a feed once per tick;
/// but never later than [`TICK_SLACK`] before now (a first tick just
/// after the start-up pass, or ticks a second apart). Without a previous
/// tick (a start-up pass, an operator's poll), [`TICK_SLACK`] before now.
/// Measured on the monotonic clock: the wall clock may be anything.
pub fn tick_start(previous: Option<std::time::Instant>) -> std::time::Instant {
    let now = std::time::Instant::now();
    let recent = now.checked_sub(TICK_SLACK).unwrap_or(now);
    previous
        .and_then(|p| p.checked_add(TICK_SLACK))
        .map_or(recent, |after_previous| after_previous.min(recent))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{TICK_SLACK, tick_start};

    #[test]
    fn a_tick_begins_a_second_after_the_previous_one_or_a_second_ago() {
        // No previous tick: a second before now.
        let before = Instant::now();
        let start = tick_start(None);
        assert!(start <= Instant::now() - TICK_SLACK && start >= before - TICK_SLACK);
        // Ticks 3 s apart: a second after the previous one, so a claim an
        // instance made 1.5 s ago (its clock fired the tick earlier) is
        // this tick's, and this instance's own claim of 3 s ago is not.
        let previous = Instant::now() - Duration::from_secs(3);
        assert_eq!(tick_start(Some(previous)), previous + TICK_SLACK);
        // A tick just after the start-up pass: a second before now, so the
        // start-up pass's claims count as this tick's.
        let previous = Instant::now() - Duration::from_millis(300);
        let start = tick_start(Some(previous));
        assert!(start < previous && start <= Instant::now() - TICK_SLACK);
    }
}
