//! The rules of `same_story` on texts built from seeded random words (so
//! that only the intended overlap is shared).

use super::*;

/// `paragraphs` paragraphs of `words` random words each.
fn story(seed: u64, paragraphs: usize, words: usize) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..paragraphs)
        .map(|_| {
            (0..words)
                .map(|_| format!("w{}", rng.u32(0..20_000)))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn join(paragraphs: &[String]) -> String {
    paragraphs.join("\n\n")
}

fn nothing(_: u64) -> bool {
    false
}

fn judge(incoming: &str, stored: &str) -> Verdict {
    judge_with(incoming, stored, &nothing)
}

fn judge_with(incoming: &str, stored: &str, boilerplate: &impl Boilerplate) -> Verdict {
    let stored_sketch = Sketch::of_text(stored);
    let signature = stored_sketch
        .signature(|_| true)
        .expect("a stored signature");
    let mut blocks: Vec<u64> = stored_sketch.block_keys().collect();
    blocks.sort_unstable();
    let stored = Stored {
        signature: &signature,
        blocks: &blocks,
    };
    same_story(
        &Sketch::of_text(incoming),
        boilerplate,
        stored,
        DEFAULT_SIMILARITY,
    )
}

#[test]
fn a_wire_copy_with_credit_line_and_byline_is_the_same_story() {
    let original = story(1, 8, 60);
    let mut copy = vec!["By Someone Else, Staff Writer".to_owned()];
    copy.extend(original.iter().cloned());
    copy.push(
        "This story was first published by Example News and is republished with permission.".into(),
    );
    let verdict = judge(&join(&copy), &join(&original));
    assert!(verdict.same, "{verdict:?}");
}

#[test]
fn a_reworded_sentence_and_a_dropped_paragraph_are_a_light_edit() {
    let original = story(2, 6, 60);
    let mut copy = original[..5].to_vec();
    let mut words: Vec<String> = copy[2].split(' ').map(str::to_owned).collect();
    for w in words.iter_mut().skip(10).step_by(3).take(6) {
        *w = format!("{w}x");
    }
    copy[2] = words.join(" ");
    let verdict = judge(&join(&copy), &join(&original));
    assert!(verdict.same, "{verdict:?}");
}

#[test]
fn an_update_that_adds_more_than_a_fifth_is_another_article() {
    let original = story(3, 5, 60);
    let mut update = original.clone();
    update.extend(story(4, 2, 60));
    let verdict = judge(&join(&update), &join(&original));
    assert!(!verdict.same, "{verdict:?}");
    // One added paragraph in six is a light edit.
    let mut light = original.clone();
    light.extend(story(4, 1, 40));
    assert!(judge(&join(&light), &join(&original)).same);
}

#[test]
fn press_releases_sharing_a_long_about_paragraph_stay_apart() {
    // The host does not know the paragraph yet: the rest must match too.
    let about = story(5, 1, 250).remove(0);
    let first = join(&[story(6, 1, 40).remove(0), about.clone()]);
    let second = join(&[story(7, 1, 40).remove(0), about.clone()]);
    let verdict = judge(&second, &first);
    assert!(!verdict.same, "{verdict:?}");
    assert!(verdict.incoming_share > DEFAULT_SIMILARITY, "{verdict:?}");

    // Known as the host's boilerplate, it is left out: what remains differs.
    let about_key: Vec<u64> = Sketch::of_text(&about).block_keys().collect();
    let known = |k: u64| about_key.contains(&k);
    assert!(!judge_with(&second, &first, &known).same);
}

#[test]
fn a_press_release_copied_elsewhere_is_still_one_story() {
    let about = story(5, 1, 120).remove(0);
    let news = story(8, 3, 50);
    let mut release = news.clone();
    release.push(about.clone());
    let mut copy = vec!["From the wire desk of another site".to_owned()];
    copy.extend(news.iter().cloned());
    copy.push(about.clone());
    assert!(judge(&join(&copy), &join(&release)).same);
    // The copying host knows the paragraph as boilerplate: the news still matches.
    let about_key: Vec<u64> = Sketch::of_text(&about).block_keys().collect();
    let known = |k: u64| about_key.contains(&k);
    assert!(judge_with(&join(&copy), &join(&release), &known).same);
}

#[test]
fn a_quote_of_a_long_article_is_not_that_article() {
    let long = story(9, 12, 60);
    let quote = join(&long[3..4]);
    let verdict = judge(&quote, &join(&long));
    assert!(!verdict.same, "{verdict:?}");
}

#[test]
fn short_texts_are_never_near_duplicates() {
    let short = join(&story(10, 1, 30));
    assert!(!judge(&short, &format!("{short}\n\n{}", join(&story(11, 2, 40)))).same);
}

#[test]
fn different_stories_are_different() {
    let verdict = judge(&join(&story(12, 6, 60)), &join(&story(13, 6, 60)));
    assert!(!verdict.same);
    assert!(verdict.incoming_share < 0.05, "{verdict:?}");
}

#[test]
fn a_one_paragraph_story_with_a_long_credit_block_is_a_copy() {
    // The stored text has nothing the copy lacks: no block decides alone.
    let original = story(14, 1, 250);
    let mut copy = original.clone();
    copy.push(story(15, 1, 30).remove(0));
    let verdict = judge(&join(&copy), &join(&original));
    assert!(verdict.same, "{verdict:?}");
}

#[test]
fn press_releases_sharing_an_almost_identical_paragraph_stay_apart() {
    // A legal notice with one word changed is no verbatim block, yet it is
    // what the two texts share.
    let notice = story(16, 1, 250).remove(0);
    let changed = notice.replacen(' ', " amended ", 1);
    let first = join(&[story(17, 1, 40).remove(0), notice]);
    let second = join(&[story(18, 1, 40).remove(0), changed]);
    let verdict = judge(&second, &first);
    assert!(verdict.incoming_share > DEFAULT_SIMILARITY, "{verdict:?}");
    assert!(!verdict.same, "{verdict:?}");
}

/// `paragraphs` with one word replaced every `every` words (a name or a
/// number of a template filled in again).
fn refilled(paragraphs: &[String], every: usize) -> Vec<String> {
    paragraphs
        .iter()
        .map(|p| {
            p.split(' ')
                .enumerate()
                .map(|(i, w)| {
                    if i % every == every / 2 {
                        format!("x{i}")
                    } else {
                        w.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn templated_stories_differing_in_every_sentence_stay_apart() {
    // One word in every 40 replaced: nine tenths of the five-word runs
    // are shared, no paragraph is.
    let original = story(12, 8, 60);
    let other = refilled(&original, 40);
    let verdict = judge(&join(&other), &join(&original));
    assert!(verdict.incoming_share >= DEFAULT_SIMILARITY, "{verdict:?}");
    assert_eq!(verdict.verbatim_share, 0.0, "{verdict:?}");
    assert!(!verdict.same, "{verdict:?}");

    // The same change in one paragraph of eight is a light edit.
    let mut edit = original.clone();
    edit[3] = refilled(&original[3..4], 40).remove(0);
    let verdict = judge(&join(&edit), &join(&original));
    assert!(verdict.same, "{verdict:?}");
}
