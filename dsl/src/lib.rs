//! The Tenor billing-rules language: grammar, typed AST with spans, validation, diagnostics
//! and formatter. It knows nothing of pricing; the engine in `tenor-core` compiles its AST.

pub mod ast;
pub mod currency;
pub mod diagnostic;
pub mod format;
mod parser;
pub mod source;
pub mod validate;

pub use ast::{FileId, RuleFile, Span, Spanned};
pub use diagnostic::{Diagnostic, Severity};
pub use source::SourceSet;

use std::path::{Path, PathBuf};

/// Parses one file of a source set; returns what could be read and every syntax error.
pub fn parse(sources: &SourceSet, file: FileId) -> (RuleFile, Vec<Diagnostic>) {
    parser::parse_file(file, sources.text(file))
}

/// A rule set that parsed and validated cleanly.
#[derive(Debug)]
pub struct RuleSet {
    /// Its files, in load order (which is also the order rules apply in).
    pub files: Vec<RuleFile>,
    /// What is allowed but probably not meant (an offer selling below its cost), sorted by
    /// place; empty for a rule set with nothing to say.
    pub warnings: Vec<Diagnostic>,
}

impl RuleSet {
    /// Every statement of every file, in load order.
    pub fn items(&self) -> impl Iterator<Item = &ast::Item> {
        self.files.iter().flat_map(|f| f.items.iter())
    }
}

/// Parses and validates every file of a source set as one rule set.
///
/// Syntax errors of all files are reported together; when there are any, the meaning checks
/// are skipped (they would only echo the broken statements as unknown names). Warnings are
/// looked for only in a rule set without errors, and kept in [`RuleSet::warnings`].
pub fn check(sources: &SourceSet) -> Result<RuleSet, Vec<Diagnostic>> {
    let mut files = Vec::with_capacity(sources.len());
    let mut diags = Vec::new();
    for id in sources.ids() {
        let (file, errs) = parse(sources, id);
        files.push(file);
        diags.extend(errs);
    }
    if diags.is_empty() {
        diags = validate::validate(&files);
    }
    if diags.is_empty() {
        let mut warnings = validate::warnings(&files);
        diagnostic::sort(&mut warnings);
        Ok(RuleSet { files, warnings })
    } else {
        diagnostic::sort(&mut diags);
        Err(diags)
    }
}

/// Expands paths to rule files: a directory means every `.tenor` file below it, sorted by path
/// so that load order (and so the order of routes and discounts across files) is stable.
pub fn collect_rule_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found)?;
            found.sort();
            out.extend(found);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no such file or directory: {}", p.display()),
            ));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "tenor") {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads rule files into a source set, each named by its path as given.
pub fn load(paths: &[PathBuf]) -> std::io::Result<SourceSet> {
    let mut sources = SourceSet::new();
    for p in collect_rule_files(paths)? {
        let text = std::fs::read_to_string(&p).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot read {}: {e}", p.display()))
        })?;
        sources.add(p.display().to_string(), text);
    }
    Ok(sources)
}

/// Counts of what a rule set defines, for `tenor check`'s summary line.
#[derive(Debug, Default, serde::Serialize)]
pub struct Summary {
    /// Products.
    pub products: usize,
    /// Bundles.
    pub bundles: usize,
    /// Price lines of products and bundles.
    pub offers: usize,
    /// Tier tables.
    pub tier_tables: usize,
    /// Co-term policies.
    pub coterm_policies: usize,
    /// Discount rules.
    pub discounts: usize,
    /// Procurement routes.
    pub routes: usize,
}

impl Summary {
    /// Commercial rules: tier tables, co-term policies, discounts and routes.
    pub fn rules(&self) -> usize {
        self.tier_tables + self.coterm_policies + self.discounts + self.routes
    }
}

/// How many of a block's lines are of one kind.
fn count<E>(entries: &[ast::Spanned<E>], kind: impl Fn(&E) -> bool) -> usize {
    entries.iter().filter(|e| kind(&e.node)).count()
}

/// Counts what a rule set defines.
pub fn summary(rules: &RuleSet) -> Summary {
    use ast::{BundleEntry, Item, ProductEntry};
    let mut s = Summary::default();
    for item in rules.items() {
        match item {
            Item::Product(p) => {
                s.products += 1;
                s.offers += count(&p.entries, |e| matches!(e, ProductEntry::Offer(_)));
            }
            Item::Bundle(b) => {
                s.bundles += 1;
                s.offers += count(&b.entries, |e| matches!(e, BundleEntry::Offer(_)));
            }
            Item::Tiers(_) => s.tier_tables += 1,
            Item::Coterm(_) => s.coterm_policies += 1,
            Item::Discount(_) => s.discounts += 1,
            Item::Route(_) => s.routes += 1,
            Item::Setting(_) | Item::Party(_) | Item::Match(_) => {}
        }
    }
    s
}
