//! The limits a run puts on its plugins: from the environment, overridden for one command line
//! run by its flags (the command line sets them for the duration of the run with
//! [`with_options`], so the code that loads plugins needs no new parameter).

use std::cell::RefCell;
use std::time::Duration;

/// Environment variable: seconds a plugin call may take (decimals allowed) before its worker
/// is killed.
pub const TIMEOUT_VAR: &str = "TENOR_PLUGIN_TIMEOUT";
/// Environment variable: the largest response a plugin may send, in bytes (`K`, `M`, `G`
/// suffixes are powers of 1024).
pub const MAX_RESPONSE_VAR: &str = "TENOR_PLUGIN_MAX_RESPONSE";
/// Environment variable: the address-space limit of a plugin's worker, in bytes (suffixes as
/// for [`MAX_RESPONSE_VAR`]).
pub const MEMORY_VAR: &str = "TENOR_PLUGIN_MEMORY";

/// What the host allows each plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// How long one call (or loading) may take.
    pub timeout: Duration,
    /// The largest response accepted, in bytes; checked on the frame's length before reading.
    pub max_response: u64,
    /// The worker's address-space limit (`RLIMIT_AS`), in bytes.
    pub memory: u64,
    /// Refuse to load anything when the plugin directory has no `plugins.lock`.
    pub locked: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(30),
            max_response: 64 << 20,
            memory: 2 << 30,
            locked: false,
        }
    }
}

thread_local! {
    static SCOPED: RefCell<Option<Options>> = const { RefCell::new(None) };
}

impl Options {
    /// The defaults with the environment's `TENOR_PLUGIN_*` settings; an unreadable value is
    /// an error naming the variable.
    pub fn from_env() -> Result<Options, String> {
        let mut o = Options::default();
        if let Some(v) = var(TIMEOUT_VAR) {
            o.timeout = parse_seconds(&v).ok_or_else(|| {
                format!("{TIMEOUT_VAR}=`{v}` is not a number of seconds (such as 30 or 2.5)")
            })?;
        }
        if let Some(v) = var(MAX_RESPONSE_VAR) {
            o.max_response = parse_size(&v).ok_or_else(|| bad_size(MAX_RESPONSE_VAR, &v))?;
        }
        if let Some(v) = var(MEMORY_VAR) {
            o.memory = parse_size(&v).ok_or_else(|| bad_size(MEMORY_VAR, &v))?;
        }
        Ok(o)
    }

    /// The options of the current run: those set by [`with_options`] on this thread, else
    /// [`Options::from_env`], else the defaults.
    pub fn current() -> Options {
        SCOPED
            .with(|s| s.borrow().clone())
            .unwrap_or_else(|| Options::from_env().unwrap_or_default())
    }
}

/// Runs `f` with `options` as [`Options::current`] on this thread, restoring the previous
/// ones afterwards.
pub fn with_options<T>(options: Options, f: impl FnOnce() -> T) -> T {
    let previous = SCOPED.with(|s| s.replace(Some(options)));
    /// Restores the previous options even when `f` unwinds.
    struct Restore(Option<Options>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            SCOPED.with(|s| *s.borrow_mut() = previous);
        }
    }
    let _restore = Restore(previous);
    f()
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn bad_size(name: &str, v: &str) -> String {
    format!("{name}=`{v}` is not a size in bytes (such as 1048576, 64M or 2G)")
}

/// Seconds as a duration: `30`, `2.5`, `0.25`; never negative, never zero.
pub fn parse_seconds(text: &str) -> Option<Duration> {
    let d = rust_decimal::Decimal::from_str_exact(text.trim()).ok()?;
    let millis = (d * rust_decimal::Decimal::from(1000)).trunc();
    let millis = u64::try_from(millis).ok()?;
    (millis > 0).then(|| Duration::from_millis(millis))
}

/// Bytes: `1048576`, `64K`, `64M`, `2G` (powers of 1024), optionally with `iB` or `B`.
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, shift) = match t.chars().last()? {
        'K' | 'k' => (t.get(..t.len() - 1)?, 10),
        'M' | 'm' => (t.get(..t.len() - 1)?, 20),
        'G' | 'g' => (t.get(..t.len() - 1)?, 30),
        _ => (t, 0),
    };
    let n: u64 = digits.trim().parse().ok()?;
    let n = n.checked_mul(1u64 << shift)?;
    (n > 0).then_some(n)
}

/// A size for people: `64 MiB`, `1000 bytes`.
pub fn show_size(n: u64) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if n >= 1 << shift && n % (1 << shift) == 0 {
            return format!("{} {unit}", n >> shift);
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_seconds_read_as_written_or_not_at_all() {
        assert_eq!(parse_size("64M"), Some(64 << 20));
        assert_eq!(parse_size("2GiB"), Some(2 << 30));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("1.5G"), None);
        assert_eq!(parse_size("0"), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_seconds("2.5"), Some(Duration::from_millis(2500)));
        assert_eq!(parse_seconds("0"), None);
        assert_eq!(parse_seconds("soon"), None);
        assert_eq!(show_size(64 << 20), "64 MiB");
        assert_eq!(show_size(1001), "1001 bytes");
    }

    #[test]
    fn scoped_options_apply_inside_and_are_restored_after() {
        let o = Options {
            locked: true,
            ..Options::default()
        };
        assert!(with_options(o, || Options::current().locked));
        assert!(!SCOPED.with(|s| s.borrow().is_some()));
    }
}
