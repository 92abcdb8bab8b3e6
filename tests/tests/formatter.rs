//! The formatter on every real rule file and every valid fixture: it succeeds, is idempotent,
//! keeps the syntax tree and every comment, and `rules/` is already in its canonical layout.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use tenor_dsl::diagnostic::render_plain;
use tenor_dsl::{RuleFile, SourceSet};
use tenor_tests::{all_valid_files, fixtures_dir, format_ok, numbered, rule_files};

fn parse_clean(name: &str, text: &str) -> RuleFile {
    let mut sources = SourceSet::new();
    let id = sources.add(name, text);
    let (file, diags) = tenor_dsl::parse(&sources, id);
    assert!(
        diags.is_empty(),
        "{name} does not parse:\n{}\n{}",
        render_plain(&sources, &diags),
        numbered(text)
    );
    file
}

fn comment_texts(file: &RuleFile) -> Vec<String> {
    file.comments.iter().map(|c| c.text.clone()).collect()
}

#[test]
fn formatting_is_idempotent_and_keeps_meaning_and_comments() {
    let mut checked = 0;
    for (name, text) in all_valid_files() {
        let once = format_ok(&name, &text);
        let twice = format_ok(&name, &once);
        assert_eq!(
            twice, once,
            "{name}: formatting the formatted text changes it again"
        );

        let before = parse_clean(&name, &text);
        let after = parse_clean(&name, &once);
        assert_eq!(
            after.items.len(),
            before.items.len(),
            "{name}: statement count changed"
        );
        for (i, (a, b)) in before.items.iter().zip(&after.items).enumerate() {
            assert_eq!(a, b, "{name}: statement {} changed meaning", i + 1);
        }
        assert_eq!(
            comment_texts(&after),
            comment_texts(&before),
            "{name}: comments lost or reordered"
        );
        checked += 1;
    }
    assert!(
        checked >= 10,
        "expected the rules/ files and the valid fixtures, checked {checked}"
    );
}

#[test]
fn formatted_text_has_a_clean_shape() {
    for (name, text) in all_valid_files() {
        let out = format_ok(&name, &text);
        assert!(
            out.ends_with('\n') && !out.ends_with("\n\n"),
            "{name}: output must end with exactly one newline"
        );
        assert!(
            !out.starts_with('\n'),
            "{name}: output starts with a blank line"
        );
        assert!(
            !out.contains("\n\n\n"),
            "{name}: output has two blank lines in a row"
        );
        for (i, line) in out.lines().enumerate() {
            assert_eq!(
                line,
                line.trim_end(),
                "{name}:{}: trailing whitespace",
                i + 1
            );
            assert!(!line.contains('\t'), "{name}:{}: tab in output", i + 1);
            let indent = line.len() - line.trim_start().len();
            assert!(indent % 2 == 0, "{name}:{}: odd indentation", i + 1);
        }
    }
}

#[test]
fn example_rules_are_already_formatted() {
    for (name, text) in rule_files() {
        let out = format_ok(&name, &text);
        assert!(
            out == text,
            "{name} is not in the canonical layout; `tenor fmt rules/` would write:\n{out}"
        );
    }
}

#[test]
fn messy_fixture_formats_to_the_canonical_layout() {
    let path = fixtures_dir().join("valid").join("awkward-layout.tenor");
    let text = std::fs::read_to_string(&path).unwrap();
    let out = format_ok("valid/awkward-layout.tenor", &text);
    insta::with_settings!({ description => "tenor fmt valid/awkward-layout.tenor", omit_expression => true }, {
        insta::assert_snapshot!("awkward_layout_formatted", out);
    });
}

#[test]
fn a_file_that_does_not_parse_is_not_formatted() {
    let text =
        "currency USD\nproduct M365-BP \"Microsoft 365 Business Premium\" {\n  vendor microsoft\n";
    match tenor_dsl::format::format_source("broken.tenor", text) {
        Err(tenor_dsl::format::FormatError::Syntax(sources, diags)) => {
            let rendered = render_plain(&sources, &diags);
            // Points at the `{` left open on line 2, not at the end of the file.
            assert!(rendered.contains("broken.tenor:2:50"), "{rendered}");
        }
        Err(tenor_dsl::format::FormatError::Changed(why)) => {
            panic!("expected a syntax error, got a refusal: {why}")
        }
        Ok(out) => panic!("a file with an unclosed block was formatted:\n{out}"),
    }
}

#[test]
fn empty_and_comment_only_files_format() {
    assert_eq!(format_ok("empty.tenor", ""), "");
    assert_eq!(format_ok("blank.tenor", "\n\n  \n"), "");
    assert_eq!(format_ok("note.tenor", "# just a note"), "# just a note\n");
    assert_eq!(
        format_ok("notes.tenor", "  # one\n\n\n# two  \n"),
        "# one\n\n# two\n"
    );
}
