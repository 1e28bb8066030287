//! What a response's headers say of time: when a server asks to be asked
//! again (`Retry-After`) and how long its answer stays fresh
//! (`Cache-Control: max-age`, `Expires`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap};

/// `Retry-After` as a time: delay-seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u32>() {
        return Some(now + chrono::Duration::seconds(seconds.into()));
    }
    http_date(value)
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), as UTC.
fn http_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .filter(crate::feed::dates::representable)
}

/// How long a response stays fresh by its headers: `Cache-Control: max-age`
/// wins over `Expires` (RFC 9111); `no-cache`/`no-store` or a date in the past
/// mean zero; `None` when the server says nothing (or nothing readable).
pub fn fresh_for(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let directives = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|d| d.trim().to_ascii_lowercase());
    let mut max_age = None;
    for directive in directives {
        if directive == "no-cache" || directive == "no-store" {
            return Some(Duration::ZERO);
        }
        if let Some(seconds) = directive.strip_prefix("max-age=") {
            max_age = seconds.trim_matches('"').parse::<u64>().ok().or(max_age);
        }
    }
    if let Some(seconds) = max_age {
        return Some(Duration::from_secs(seconds));
    }
    let date = |name| http_date(headers.get(name)?.to_str().ok()?);
    let expires = headers.get(header::EXPIRES)?;
    // An invalid Expires (often "0" or "-1") means already expired.
    let Some(expires) = date(header::EXPIRES) else {
        return expires.to_str().ok().map(|_| Duration::ZERO);
    };
    let served = date(header::DATE).unwrap_or(now);
    Some((expires - served).to_std().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use reqwest::header::HeaderValue;

    #[test]
    fn freshness_from_cache_control_or_expires() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let headers = |pairs: &[(header::HeaderName, &str)]| {
            let mut h = HeaderMap::new();
            for (name, value) in pairs {
                h.append(name, HeaderValue::from_str(value).unwrap());
            }
            h
        };
        let cc = header::CACHE_CONTROL;
        let hour = Some(Duration::from_secs(3600));
        assert_eq!(
            fresh_for(&headers(&[(cc.clone(), "public, max-age=3600")]), now),
            hour
        );
        assert_eq!(
            fresh_for(
                &headers(&[(cc.clone(), "Max-Age=\"3600\", must-revalidate")]),
                now
            ),
            hour
        );
        assert_eq!(
            fresh_for(&headers(&[(cc.clone(), "no-cache")]), now),
            Some(Duration::ZERO)
        );
        // max-age wins over Expires; Expires counts from the response's Date.
        let expires = (header::EXPIRES, "Thu, 01 Jan 2026 02:00:00 GMT");
        assert_eq!(
            fresh_for(
                &headers(&[(cc.clone(), "max-age=3600"), expires.clone()]),
                now
            ),
            hour
        );
        assert_eq!(
            fresh_for(
                &headers(&[
                    expires.clone(),
                    (header::DATE, "Thu, 01 Jan 2026 01:00:00 GMT")
                ]),
                now
            ),
            hour
        );
        assert_eq!(
            fresh_for(&headers(&[expires]), now),
            Some(Duration::from_secs(7200))
        );
        assert_eq!(
            fresh_for(&headers(&[(header::EXPIRES, "0")]), now),
            Some(Duration::ZERO)
        );
        assert_eq!(fresh_for(&headers(&[(cc, "max-age=soon")]), now), None);
        assert_eq!(fresh_for(&HeaderMap::new(), now), None);
    }

    #[test]
    fn retry_after_in_seconds_and_as_date() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(
            retry_after(&headers, now),
            Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 2, 0).unwrap())
        );
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from_static("Thu, 01 Jan 2026 01:00:00 GMT"),
        );
        assert_eq!(
            retry_after(&headers, now),
            Some(Utc.with_ymd_and_hms(2026, 1, 1, 1, 0, 0).unwrap())
        );
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }
}
