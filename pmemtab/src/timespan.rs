//! systemd time spans (systemd.time(7)): read as `x-systemd.*-timeout=` values are written,
//! and written as unit files' `Timeout*Sec=` settings take them.

use nom::branch::alt;
use nom::bytes::complete::tag;
use nom::character::complete::digit1;
use nom::combinator::{all_consuming, value};
use nom::multi::many1;
use nom::sequence::pair;
use nom::IResult;
use std::time::Duration;

/// The longest time limit an entry (`x-systemd.*-timeout=`) or `--timeout` may set. Nothing
/// at boot should wait longer, and the sums made from it (service, device job) then stay far
/// inside what systemd reads and what `Instant` can add.
pub const MAX_LIMIT: Duration = Duration::from_secs(7 * 24 * 3600);

/// A time limit longer than [`MAX_LIMIT`]; shown as what it is, to follow "X is ".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverLimit;

impl std::fmt::Display for OverLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "longer than pmemtab's limit of 1 week ({}s)",
            MAX_LIMIT.as_secs()
        )
    }
}

/// `d`, or [`OverLimit`] when it is longer than [`MAX_LIMIT`].
pub fn check_limit(d: Duration) -> Result<Duration, OverLimit> {
    if d > MAX_LIMIT {
        Err(OverLimit)
    } else {
        Ok(d)
    }
}

/// systemd time spans: `30`, `30s`, `500ms`, `2min`, `1min30s`, `1h 5min` (no spaces here:
/// a column has none). A bare number is seconds. `None` for what systemd would not read, and
/// for a span past u64 nanoseconds (584 years).
pub fn parse(s: &str) -> Option<Duration> {
    // Nanoseconds per unit, as systemd's parse_time() reads them (a month is 30.44 days, a
    // year 365.25); longer names first, so `ms` is not read as minutes.
    fn unit(i: &str) -> IResult<&str, u64> {
        const S: u64 = 1_000_000_000;
        alt((
            value(1, alt((tag("nsec"), tag("ns")))),
            value(1_000, alt((tag("usec"), tag("us")))),
            value(1_000_000, alt((tag("msec"), tag("ms")))),
            value(2_629_800 * S, alt((tag("months"), tag("month"), tag("M")))),
            value(
                60 * S,
                alt((tag("minutes"), tag("minute"), tag("min"), tag("m"))),
            ),
            value(
                S,
                alt((tag("seconds"), tag("second"), tag("sec"), tag("s"))),
            ),
            value(
                3_600 * S,
                alt((tag("hours"), tag("hour"), tag("hr"), tag("h"))),
            ),
            value(86_400 * S, alt((tag("days"), tag("day"), tag("d")))),
            value(604_800 * S, alt((tag("weeks"), tag("week"), tag("w")))),
            value(31_557_600 * S, alt((tag("years"), tag("year"), tag("y")))),
        ))(i)
    }
    if let Ok(secs) = s.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let (_, parts) = all_consuming(many1(pair(digit1, unit)))(s).ok()?;
    let mut nanos: u64 = 0;
    for (n, mult) in parts {
        nanos = nanos.checked_add(n.parse::<u64>().ok()?.checked_mul(mult)?)?;
    }
    Some(Duration::from_nanos(nanos))
}

/// A duration as systemd reads it: `Ns`, or `Nms` when it is not whole seconds.
pub fn format(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit() {
        assert!(check_limit(MAX_LIMIT).is_ok());
        let e = check_limit(MAX_LIMIT + Duration::from_nanos(1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "longer than pmemtab's limit of 1 week (604800s)"
        );
        assert!(check_limit(Duration::MAX).is_err());
    }

    #[test]
    fn written_as_systemd_reads_them() {
        assert_eq!(format(Duration::from_secs(90)), "90s");
        assert_eq!(format(Duration::from_millis(31500)), "31500ms");
        for d in [Duration::from_secs(90), Duration::from_millis(31500)] {
            assert_eq!(parse(&format(d)), Some(d));
        }
    }
}
