//! `[dedup]`: `check-config` knows `near_duplicates` and `similarity`
//! and refuses a wrong value where it is written (issue 26).

mod common;

use common::Gleaner;

#[test]
fn dedup_keys_are_checked_where_they_are_written() {
    let gleaner = Gleaner::new("");
    for ok in [
        "[dedup]\nnear_duplicates = false\n",
        "[dedup]\nnear_duplicates = true\nsimilarity = 0.9\n",
        "[dedup]\nsimilarity = 1\n",
        "[dedup]\nsimilarity = 0.5\n",
    ] {
        std::fs::write(gleaner.config_path(), ok).unwrap();
        gleaner.ok(&["check-config"]);
    }

    std::fs::write(
        gleaner.config_path(),
        "[dedup]\nnear_duplicates = true\nsimilarity = 0.3\n",
    )
    .unwrap();
    let stderr = gleaner.config_problems(&["3:14: [dedup].similarity = 0.3 is out of range"]);
    assert!(stderr.contains("from 0.5 to 1"), "{stderr}");

    std::fs::write(gleaner.config_path(), "[dedup]\nsimilarity = nan\n").unwrap();
    gleaner.config_problems(&["2:14: [dedup].similarity = NaN is out of range"]);

    std::fs::write(gleaner.config_path(), "[dedup]\nsimilarty = 0.9\n").unwrap();
    let stderr = gleaner.config_problems(&["2:1: unknown key `similarty` in [dedup]"]);
    assert!(stderr.contains("near_duplicates, similarity"), "{stderr}");
}

#[test]
fn dedup_values_of_the_wrong_type_are_named_with_their_key() {
    let gleaner = Gleaner::new("");
    std::fs::write(
        gleaner.config_path(),
        "[dedup]\nnear_duplicates = \"yes\"\nsimilarity = \"high\"\n",
    )
    .unwrap();
    gleaner.config_problems(&[
        "2:19: [dedup].near_duplicates must be true or false",
        "3:14: [dedup].similarity must be a number",
    ]);
}
