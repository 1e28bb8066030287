use super::*;

fn page(body: &str) -> Html {
    Html::parse_document(&format!("<html><body>{body}</body></html>"))
}

#[test]
fn bylines_lose_their_lead_word_date_and_tail() {
    for (byline, name) in [
        ("By Jane Doe", "Jane Doe"),
        ("Von Erika Mustermann | 16.10.2019", "Erika Mustermann"),
        ("Par Jean Dupont, le 16 octobre 2019", "Jean Dupont"),
        ("Por María López", "María López"),
        ("di Mario Rossi", "Mario Rossi"),
        ("Door Jan de Vries · 3 min", "Jan de Vries"),
        ("Written by: Ann Lee", "Ann Lee"),
        ("Autor: Max Muster", "Max Muster"),
        ("By Ann Lee and 2 more", "Ann Lee"),
        ("Di Maio", "Di Maio"),
        (
            "'Luana Patriolino, Raphael Felice'",
            "Luana Patriolino, Raphael Felice",
        ),
    ] {
        assert_eq!(clean(byline), name, "{byline}");
    }
}

#[test]
fn the_site_is_not_its_own_author() {
    let doc = page(
        "<article><h1>T</h1><p class=\"byline\">By <a rel=\"author\">Jane Doe</a></p></article>",
    );
    let names = vec!["Example News".to_owned()];
    assert_eq!(
        author(&doc, Some("Example News".into()), &names).as_deref(),
        Some("Jane Doe")
    );
    assert_eq!(
        author(&doc, Some("example.com".into()), &[]).as_deref(),
        Some("Jane Doe")
    );
    assert_eq!(
        author(&doc, Some("admin".into()), &[]).as_deref(),
        Some("Jane Doe")
    );
    assert_eq!(
        author(&doc, Some("Ann Lee".into()), &names).as_deref(),
        Some("Ann Lee")
    );
}

#[test]
fn several_marked_names_are_joined() {
    let doc = page(
        "<div class=\"article-authors\">Von <a href=\"/autor/a\">Anna Alt</a> und \
         <a href=\"/autor/b\">Bernd Berg</a></div>",
    );
    assert_eq!(
        author(&doc, None, &[]).as_deref(),
        Some("Anna Alt; Bernd Berg")
    );
}

#[test]
fn comments_forms_and_posters_name_no_author() {
    let doc = page(
        "<article><h1>T</h1><p>Text.</p></article>\
         <div class=\"comments\"><span class=\"comment-author\">Max</span></div>\
         <div class=\"byline\">By clicking Subscribe you agree to our terms and privacy policy</div>\
         <p class=\"posted-by\">Posted by admin</p>\
         <p class=\"author-label\">By</p><p class=\"author-box\">About the Author</p>",
    );
    assert_eq!(author(&doc, None, &[]), None);
}
