//! `gleaner check-config` refuses, at its line and column, a value that
//! would otherwise pass and fail later in every `poll` (issue 29).

mod common;

use common::Gleaner;

#[test]
fn a_database_url_of_another_scheme_is_refused_where_it_is_written() {
    let gleaner = Gleaner::new("");
    for value in [
        "postgress://gleaner:s3cret@db.example/gleaner",
        "mysql://db.example/gleaner",
        "sqlite:///var/lib/gleaner/gleaner.db",
    ] {
        std::fs::write(
            gleaner.config_path(),
            format!("[storage]\ndatabase = \"{value}\"\n"),
        )
        .unwrap();
        let stderr = gleaner.config_problems(&["2:12: [storage].database: "]);
        assert!(
            stderr.contains("a SQLite file path") && stderr.contains("postgres://"),
            "{value}: the accepted forms are named: {stderr}"
        );
        assert!(!stderr.contains("s3cret"), "{stderr}");
        assert!(
            !gleaner.dir.path().join("postgress:").exists(),
            "nothing is created"
        );
    }
    // A SQLite path and a PostgreSQL URL still pass.
    for value in ["data/g.db", "postgresql://db.example/gleaner"] {
        std::fs::write(
            gleaner.config_path(),
            format!("[storage]\ndatabase = \"{value}\"\n"),
        )
        .unwrap();
        gleaner.ok(&["check-config"]);
    }
}

#[test]
fn a_user_agent_that_is_no_header_value_is_refused_where_it_is_written() {
    let gleaner = Gleaner::new("");
    std::fs::write(
        gleaner.config_path(),
        "[fetch]\nuser_agent = \"bad\\nagent\"\nheaders = { X-Team = \"a\\u0000b\" }\n\n\
         [[feeds]]\nurl = \"https://a.example/feed\"\nuser_agent = \"feed\\ragent\"\n",
    )
    .unwrap();
    gleaner.config_problems(&[
        "2:14: [fetch].user_agent: the value of header user-agent must be visible ASCII text",
        "3:22: [fetch]: the value of header x-team must be visible ASCII text",
        "7:14: feed https://a.example/feed: the value of header user-agent",
    ]);
}
