//! How long an idle poller of the local runner waits: it backs off while
//! it finds nothing, so an idle stack costs a few requests a second.
use std::time::Duration;

/// The pause after `empties` empty polls in a row (at least one): `base`,
/// doubling, at most `max`.
pub fn idle_wait(empties: u32, base: Duration, max: Duration) -> Duration {
    let doublings = empties.saturating_sub(1).min(16);
    (base * 2u32.pow(doublings)).min(max)
}

#[cfg(test)]
mod tests {
    use super::idle_wait;
    use std::time::Duration;

    #[test]
    fn an_idle_poller_backs_off_to_its_ceiling() {
        let ms = Duration::from_millis;
        // (empty polls in a row, pause)
        let table = [
            (1, 200),
            (2, 400),
            (3, 800),
            (4, 1000),
            (40, 1000),
            (u32::MAX, 1000),
        ];
        for (empties, pause) in table {
            assert_eq!(
                idle_wait(empties, ms(200), ms(1000)),
                ms(pause),
                "{empties}"
            );
        }
        assert_eq!(idle_wait(0, ms(200), ms(1000)), ms(200));
    }
}
