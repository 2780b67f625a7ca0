//! Reading a tutorial: the fenced code blocks marked runnable, in order.
//!
//! A block runs when its info string is a language followed by the word `runnable`:
//! ```` ```sh runnable ```` (also `bash`) or ```` ```python runnable ````. Any other block is
//! text for the reader (a config file shown whole, a command for another machine). A
//! `runnable` block in a language the runner does not know is an error, so a typo cannot turn
//! a block silently into prose.

/// The language of a runnable block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Shell,
    Python,
}

/// One runnable block: its language, its text and the line its fence opens on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub lang: Lang,
    pub code: String,
    pub line: usize,
}

/// The runnable blocks of `markdown`, in order, or an error naming the line of a bad fence.
pub fn runnable_blocks(markdown: &str) -> Result<Vec<Block>, String> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, Option<Lang>, usize, String)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                let Some(fence) = fence_of(trimmed) else {
                    continue;
                };
                let info = trimmed.get(fence.len()..).unwrap_or_default().trim();
                let lang = language(info).map_err(|e| format!("line {number}: {e}"))?;
                open = Some((fence, lang, number, String::new()));
            }
            Some((fence, lang, start, code)) => {
                if trimmed.starts_with(fence.as_str())
                    && trimmed.trim_end().chars().all(|c| c == '`' || c == '~')
                {
                    if let Some(lang) = lang {
                        blocks.push(Block {
                            lang: *lang,
                            code: std::mem::take(code),
                            line: *start,
                        });
                    }
                    open = None;
                } else {
                    code.push_str(line);
                    code.push('\n');
                }
            }
        }
    }
    if let Some((_, _, start, _)) = open {
        return Err(format!("line {start}: a code fence is never closed"));
    }
    Ok(blocks)
}

/// The fence that opens a block (three or more backticks or tildes), if `line` opens one.
fn fence_of(line: &str) -> Option<String> {
    let first = line.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let fence: String = line.chars().take_while(|c| *c == first).collect();
    (fence.len() >= 3).then_some(fence)
}

/// `Some(lang)` for a runnable block, `None` for any other block.
fn language(info: &str) -> Result<Option<Lang>, String> {
    let mut words = info.split_whitespace();
    let lang = words.next().unwrap_or_default();
    if !words.any(|w| w == "runnable") {
        return Ok(None);
    }
    match lang {
        "sh" | "bash" | "shell" => Ok(Some(Lang::Shell)),
        "python" | "py" => Ok(Some(Lang::Python)),
        other => Err(format!(
            "a runnable block in '{other}': only sh/bash and python blocks can run"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_marked_blocks_run_in_order() {
        let md = "# T\n```sh\necho no\n```\n\n```sh runnable\necho one\n```\ntext\n\
                  ````python runnable\nprint('```')\n````\n```toml\na = 1\n```\n";
        let blocks = runnable_blocks(md).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].lang, Lang::Shell);
        assert_eq!(blocks[0].code, "echo one\n");
        assert_eq!(blocks[0].line, 6);
        assert_eq!(blocks[1].lang, Lang::Python);
        assert_eq!(
            blocks[1].code, "print('```')\n",
            "a shorter fence inside does not close"
        );
    }

    #[test]
    fn indented_blocks_in_lists_are_found() {
        let md = "1. Run:\n   ```bash runnable\n   echo hi\n   ```\n";
        let blocks = runnable_blocks(md).unwrap();
        assert_eq!(blocks[0].code, "   echo hi\n");
    }

    #[test]
    fn bad_markers_and_unclosed_fences_are_errors() {
        assert!(
            runnable_blocks("```ruby runnable\nputs 1\n```\n")
                .unwrap_err()
                .contains("line 1")
        );
        assert!(
            runnable_blocks("text\n```sh runnable\necho\n")
                .unwrap_err()
                .contains("never closed")
        );
    }
}
