//! `tenor completions SHELL` and `tenor man`: the command line described for shells and `man`.

use crate::cli::Ctx;
use crate::cli::exit::{CliResult, Exit};
use std::io::Write;

/// `tenor completions SHELL`: the completion script on standard output.
pub fn completions(shell: clap_complete::Shell, ctx: &mut Ctx<'_>) -> CliResult {
    let mut cmd = crate::cli::args::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "tenor", &mut buf);
    ctx.out.write_all(&buf)?;
    Ok(Exit::Success)
}

/// `tenor man`: the manual page (roff), with a section for every subcommand.
pub fn man(ctx: &mut Ctx<'_>) -> CliResult {
    let cmd = crate::cli::args::command();
    let mut buf = Vec::new();
    let page = clap_mangen::Man::new(cmd.clone());
    page.render_title(&mut buf)?;
    page.render_name_section(&mut buf)?;
    page.render_synopsis_section(&mut buf)?;
    page.render_description_section(&mut buf)?;
    page.render_options_section(&mut buf)?;
    page.render_subcommands_section(&mut buf)?;
    for sub in cmd.get_subcommands() {
        subcommand_section(sub, &mut buf)?;
    }
    page.render_version_section(&mut buf)?;
    page.render_authors_section(&mut buf)?;
    ctx.out.write_all(&buf)?;
    Ok(Exit::Success)
}

/// A `tenor SUBCOMMAND` section: its synopsis, what it does and its options.
fn subcommand_section(sub: &clap::Command, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let name = sub.get_name();
    writeln!(buf, ".SH \"TENOR {}\"", name.to_uppercase())?;
    let mut usage = sub.clone().bin_name(format!("tenor {name}"));
    writeln!(buf, "{}", roff_escape(&usage.render_usage().to_string()))?;
    if let Some(about) = sub.get_long_about().or(sub.get_about()) {
        writeln!(buf, ".PP\n{}", roff_escape(&about.to_string()))?;
    }
    for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
        let flag = match (arg.get_long(), arg.get_short()) {
            (Some(l), _) => format!("\\-\\-{l}"),
            (None, Some(s)) => format!("\\-{s}"),
            (None, None) => arg.get_id().to_string().to_uppercase(),
        };
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        writeln!(buf, ".TP\n\\fB{flag}\\fR\n{}", roff_escape(&help))?;
    }
    Ok(())
}

/// Text made safe for roff: backslashes doubled, hyphens and leading dots escaped.
fn roff_escape(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('-', "\\-");
    escaped
        .lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
