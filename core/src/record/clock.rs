//! The record's clock: UTC seconds, or `TENOR_NOW` (RFC 3339, such as
//! `2026-01-01T00:00:00Z`) so that tests and reproductions get the same times every run.

use super::RecordError;

/// The environment variable that fixes the clock.
pub const TENOR_NOW: &str = "TENOR_NOW";

/// Now, as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now() -> Result<String, RecordError> {
    let at = match std::env::var(TENOR_NOW) {
        Ok(v) => chrono::DateTime::parse_from_rfc3339(&v)
            .map_err(|e| {
                RecordError::Clock(format!("{TENOR_NOW}=`{v}` is not an RFC 3339 time: {e}"))
            })?
            .with_timezone(&chrono::Utc),
        Err(_) => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|e| RecordError::Clock(e.to_string()))?
                .as_secs();
            let secs = i64::try_from(secs).map_err(|e| RecordError::Clock(e.to_string()))?;
            chrono::DateTime::from_timestamp(secs, 0)
                .ok_or_else(|| RecordError::Clock(format!("{secs} s is not a time")))?
        }
    };
    Ok(at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}
