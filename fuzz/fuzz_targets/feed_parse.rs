//! Any bytes, with any of a few Content-Type headers, through the whole
//! feed path (charset resolution, strict parse, pre-pass, parse again) and
//! through each repair step on its own: none may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [Option<&str>; 5] = [
    None,
    Some("application/rss+xml"),
    Some("text/xml; charset=iso-8859-1"),
    Some("application/atom+xml; charset=utf-16"),
    Some("application/feed+json"),
];

fuzz_target!(
    init: {
        // feed::parse catches feed-rs' own panics and reports them as errors;
        // libFuzzer's hook would abort on those. Only a panic that escapes
        // gleaner is a finding (see the abort below).
        std::panic::set_hook(Box::new(|_| {}));
    },
    |data: &[u8]| {
        let escaped = std::panic::catch_unwind(|| run(data)).is_err();
        if escaped {
            std::process::abort();
        }
    }
);

fn run(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let content_type = CONTENT_TYPES[usize::from(selector) % CONTENT_TYPES.len()];
    let Ok(base) = url::Url::parse("https://fuzz.example/feed.xml") else {
        return;
    };
    let _ = gleaner::feed::parse(bytes, content_type, &base);

    let text = String::from_utf8_lossy(bytes);
    let _ = gleaner::feed::repair::repair_xml(&text);
    let _ = gleaner::feed::json::repair_json(&text);
    let _ = gleaner::feed::dates::parse_timestamp(&text);
    let _ = gleaner::feed::entities::decode_text(&text);
}
