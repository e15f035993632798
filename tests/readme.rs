//! The README's examples run as written: every `    $ command` line of README.md runs in
//! `sh` with the built trailsift on the PATH, in one scratch directory, in order. Its
//! stdout must be the lines shown under it, exactly, and it must exit 0 unless the next
//! example is `echo $?`, which shows the status. So an example whose output changes, or
//! that starts failing quietly, fails this test.
#![cfg(feature = "cli")]

use std::fs;
use std::path::Path;
use std::process::Command;

/// One example: the command after `$ ` and the output lines shown under it.
#[derive(Debug)]
struct Example {
    command: String,
    output: String,
}

/// The examples of a Markdown text, in order.
fn examples(markdown: &str) -> Vec<Example> {
    let mut examples = Vec::new();
    let mut lines = markdown.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(command) = line.strip_prefix("    $ ") else {
            continue;
        };
        let mut output = String::new();
        while let Some(next) = lines.peek() {
            match next.strip_prefix("    ") {
                Some(out) if !out.starts_with("$ ") => {
                    output.push_str(out);
                    output.push('\n');
                    lines.next();
                }
                _ => break,
            }
        }
        examples.push(Example {
            command: command.to_string(),
            output,
        });
    }
    examples
}

/// Runs the examples in `dir`; the first that does not hold, as an error.
fn run_all(examples: &[Example], dir: &Path) -> Result<(), String> {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_trailsift"))
        .parent()
        .ok_or("no bin dir")?;
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for (i, example) in examples.iter().enumerate() {
        // `echo $?` shows the exit status of the command before it.
        let script = if example.command == "echo $?" {
            "cat .status".to_string()
        } else {
            format!("{}; echo \"$?\" > .status", example.command)
        };
        let out = Command::new("sh")
            .arg("-c")
            .arg(&script)
            .current_dir(dir)
            .env("PATH", &path)
            .output()
            .map_err(|e| format!("{}: {e}", example.command))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if stdout != example.output {
            return Err(format!(
                "README command: {}\nexpected:\n{}got:\n{stdout}",
                example.command, example.output
            ));
        }
        let status_shown = examples.get(i + 1).is_some_and(|e| e.command == "echo $?");
        let status = fs::read_to_string(dir.join(".status")).unwrap_or_default();
        if example.command != "echo $?" && !status_shown && status.trim() != "0" {
            return Err(format!(
                "README command: {}\nexited {} (not shown in the README)\n{}",
                example.command,
                status.trim(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok(())
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn readme_examples() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let examples = examples(&readme);
    assert!(examples.len() >= 12, "README examples found: {examples:?}");
    run_all(&examples, &scratch("readme")).unwrap_or_else(|e| panic!("{e}"));
}

/// The runner itself: a changed output and a failure the README does not show are caught.
#[test]
fn a_changed_output_or_a_hidden_failure_is_caught() {
    let dir = scratch("readme-self");
    let text = "    $ echo one\n    one\n";
    assert!(run_all(&examples(text), &dir).is_ok());
    let changed = "    $ echo one\n    two\n";
    assert!(run_all(&examples(changed), &dir).is_err());
    let missing_line = "    $ printf 'a\\nb\\n'\n    a\n";
    assert!(run_all(&examples(missing_line), &dir).is_err());
    let hidden_failure = "    $ trailsift validate no-such-file.ndjson\n";
    assert!(run_all(&examples(hidden_failure), &dir).is_err());
    let shown_failure =
        "    $ trailsift validate no-such-file.ndjson 2>/dev/null\n    $ echo $?\n    2\n";
    assert!(run_all(&examples(shown_failure), &dir).is_ok());
}
