//! Handoff Markdown to safe HTML for the preview: rendered by pulldown-cmark, then cleaned by
//! ammonia (a handoff is written by a model or a person and may hold any HTML: no scripts,
//! no event handlers, no remote images, links that cannot reach the app).

use pulldown_cmark::{Options, Parser, html};

/// The body without a leading `# {title}` line: the window shows the title already.
pub fn strip_title<'a>(body: &'a str, title: &str) -> &'a str {
    let trimmed = body.trim_start();
    match trimmed.split_once('\n') {
        Some((first, rest)) if first.trim() == format!("# {}", title.trim()) => rest,
        None if trimmed.trim() == format!("# {}", title.trim()) => "",
        _ => body,
    }
}

/// Renders Markdown to sanitised HTML.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(markdown, options));
    sanitizer().clean(&raw).to_string()
}

fn sanitizer() -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::default();
    // Task lists render as disabled checkboxes; keep them, and make every <input> one.
    b.add_tags(["input"])
        .add_tag_attributes("input", ["checked"])
        .set_tag_attribute_value("input", "type", "checkbox")
        .set_tag_attribute_value("input", "disabled", "")
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        // No images at all: a remote image would be a request the person did not ask for.
        .rm_tags(["img"]);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_sections_of_a_handoff() {
        let html = render("## Tasks\n\n- [ ] Add /login\n- [x] Plan\n\n**bold** `code`\n");
        assert!(html.contains("<h2>Tasks</h2>"), "{html}");
        let inputs: Vec<&str> = html
            .split("<input")
            .skip(1)
            .map(|s| &s[..s.find('>').unwrap()])
            .collect();
        assert_eq!(inputs.len(), 2, "{html}");
        for input in &inputs {
            assert!(
                input.contains(r#"type="checkbox""#) && input.contains("disabled"),
                "{html}"
            );
        }
        assert!(
            inputs[1].contains("checked") && !inputs[0].contains("checked"),
            "{html}"
        );
        assert!(
            html.contains("<strong>bold</strong> <code>code</code>"),
            "{html}"
        );
    }

    #[test]
    fn scripts_handlers_and_dangerous_links_are_removed() {
        let html = render(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n\
             [a](javascript:alert(3)) <a href=\"https://example.com\" onclick=\"x()\">b</a>\n\n\
             <iframe src=\"https://evil\"></iframe><input type=text value=steal>",
        );
        for bad in [
            "<script",
            "alert(1)",
            "onerror",
            "javascript:",
            "onclick",
            "<iframe",
            "<img",
            "type=\"text\"",
            "steal",
        ] {
            assert!(!html.contains(bad), "{bad} survived: {html}");
        }
        assert!(html.contains(r#"href="https://example.com""#), "{html}");
        assert!(html.contains("noopener"), "{html}");
    }

    #[test]
    fn the_title_heading_is_not_repeated() {
        assert_eq!(
            strip_title("\n# Add auth\n## Summary\n", "Add auth"),
            "## Summary\n"
        );
        assert_eq!(strip_title("# Other\n", "Add auth"), "# Other\n");
    }
}
