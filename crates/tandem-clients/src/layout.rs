//! Keeping single-line JSON single-line. jsonc-parser's CST spreads an object over several
//! lines whenever a property is added to it; in a file written compactly
//! (`{"mcpServers":{"x":{"command":"a"}}}`, as `JSON.stringify` or Python's `json.dumps`
//! write them) that reformats what belongs to the person, and removing the entry again
//! cannot give their bytes back. So after such an insertion the container's own blanks are
//! put back exactly as they were, and the inserted entry is written on one line in the style
//! the file already uses; the CST's removal of a property (with the comma before it) is then
//! the exact inverse. Only whitespace and newline nodes of the tree are changed or removed.

use jsonc_parser::cst::{CstContainerNode, CstNode};

/// Separators of a compactly written file: what follows a colon and what follows a comma
/// (`""` for `JSON.stringify`, `" "` for `json.dumps`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Compact {
    after_colon: String,
    after_comma: String,
}

fn is_blank(node: &CstNode) -> bool {
    node.is_whitespace() || node.is_newline()
}

/// The children of a container that are not blanks (brackets, commas, properties, values,
/// comments), each with the blank nodes that follow it up to the next one.
fn split(container: &CstContainerNode) -> (Vec<CstNode>, Vec<Vec<CstNode>>) {
    let mut fixed = Vec::new();
    let mut gaps: Vec<Vec<CstNode>> = Vec::new();
    for child in container.children() {
        if is_blank(&child) {
            if let Some(gap) = gaps.last_mut() {
                gap.push(child);
            }
        } else {
            fixed.push(child);
            gaps.push(Vec::new());
        }
    }
    // The last gap (after the closing bracket) never exists inside an object or array.
    gaps.pop();
    (fixed, gaps)
}

fn text(nodes: &[CstNode]) -> String {
    nodes.iter().map(ToString::to_string).collect()
}

/// An object or array with no properties or elements (only brackets and blanks).
fn is_empty(container: &CstContainerNode) -> bool {
    split(container).0.len() <= 2
}

/// Whether a container's own children lie on one line.
fn single_line(container: &CstContainerNode) -> bool {
    !container.children().iter().any(CstNode::is_newline)
}

/// Whether an insertion into `container` should stay on one line: the nearest object or
/// array around it (itself included) that holds something is written on one line. An empty
/// `{}` says nothing about the file's style, so a file that is only `{}` gets the CST's
/// ordinary multi-line layout.
pub(crate) fn wants_compact(container: &CstContainerNode) -> bool {
    let mut here = Some(container.clone());
    while let Some(c) = here {
        if (c.is_object() || c.is_array()) && !is_empty(&c) {
            return single_line(&c);
        }
        here = c.parent();
    }
    false
}

/// The blanks of a container, to be put back after an insertion.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    fixed: Vec<String>,
    gaps: Vec<String>,
}

impl Layout {
    pub(crate) fn of(container: &CstContainerNode) -> Self {
        let (fixed, gaps) = split(container);
        Self {
            fixed: fixed.iter().map(ToString::to_string).collect(),
            gaps: gaps.iter().map(|g| text(g)).collect(),
        }
    }

    fn ends_with_comma(&self) -> bool {
        self.fixed.len() >= 2 && self.fixed[self.fixed.len() - 2] == ","
    }
}

impl Compact {
    /// The separators used around `container`: from the first single-line object or array
    /// (itself, then outwards) that shows one; a comma is followed by a space when a colon
    /// is, unless the file shows otherwise.
    pub(crate) fn learn(container: &CstContainerNode) -> Self {
        let mut after_colon = None;
        let mut after_comma = None;
        let mut here = Some(container.clone());
        while let Some(c) = here {
            if c.is_object() || c.is_array() {
                let (fixed, gaps) = split(&c);
                if after_colon.is_none() {
                    after_colon = fixed
                        .iter()
                        .filter_map(CstNode::as_object_prop)
                        .find_map(|p| colon_gap(&p.into()));
                }
                if after_comma.is_none() && single_line(&c) {
                    after_comma = fixed
                        .iter()
                        .zip(&gaps)
                        .zip(fixed.iter().skip(1))
                        .find(|((f, _), next)| f.is_comma() && !is_closing(next))
                        .map(|((_, gap), _)| text(gap));
                }
            }
            here = c.parent();
        }
        let after_colon = after_colon.unwrap_or_default();
        let after_comma = after_comma.unwrap_or_else(|| after_colon.clone());
        Self {
            after_colon,
            after_comma,
        }
    }
}

/// The blank text between a property's colon and its value, when it is only spaces.
fn colon_gap(prop: &CstContainerNode) -> Option<String> {
    let (fixed, gaps) = split(prop);
    let colon = fixed.iter().position(|f| f.token_char() == Some(':'))?;
    let gap = gaps.get(colon)?;
    if gap.iter().any(CstNode::is_newline) {
        return None;
    }
    Some(text(gap))
}

fn is_closing(node: &CstNode) -> bool {
    matches!(node.token_char(), Some('}' | ']'))
}

fn is_opening(node: &CstNode) -> bool {
    matches!(node.token_char(), Some('{' | '['))
}

/// Makes the blanks of one gap read `want`: the first whitespace node takes the text and the
/// other blanks go. Returns false when `want` is not empty and the gap has no whitespace node
/// to hold it (the CST has no public way to add one); the gap is then left empty.
fn set_gap(gap: &[CstNode], want: &str) -> bool {
    let holder = if want.is_empty() {
        None
    } else {
        gap.iter().position(CstNode::is_whitespace)
    };
    for (i, node) in gap.iter().enumerate() {
        match node.as_whitespace() {
            Some(ws) if Some(i) == holder => {
                if ws.value() != want {
                    ws.set_value(want.to_string());
                }
            }
            _ => node.clone().remove(),
        }
    }
    want.is_empty() || holder.is_some()
}

/// Pairs the current non-blank children with `before`'s: the CST only adds the entry (at
/// child index `inserted`) and commas next to it, so a greedy match by text is exact.
fn align(fixed: &[CstNode], before: &Layout, inserted: usize) -> Vec<Option<usize>> {
    let mut matched = Vec::with_capacity(fixed.len());
    let mut j = 0;
    for node in fixed {
        let is_new = node.child_index() == inserted && !node.is_comma();
        if !is_new && before.fixed.get(j).is_some_and(|t| *t == node.to_string()) {
            matched.push(Some(j));
            j += 1;
        } else {
            matched.push(None);
        }
    }
    matched
}

/// Puts a single-line container's blanks back as `before` had them, after `inserted` (a
/// property or element, with the comma the CST added next to it) was added: the comma goes
/// right after the element before it, the entry follows after the file's separator, and
/// whatever stood before the closing bracket stands there again. A trailing comma the CST
/// added after the entry goes unless the container had one. Returns whether the original
/// blanks could all be put back.
pub(crate) fn relayout(
    container: &CstContainerNode,
    before: &Layout,
    inserted: usize,
    style: &Compact,
) -> bool {
    let (fixed, _) = split(container);
    if !before.ends_with_comma() {
        // A trailing comma the container did not have.
        let matched = align(&fixed, before, inserted);
        for (k, node) in fixed.iter().enumerate() {
            if matched[k].is_none() && node.is_comma() && fixed.get(k + 1).is_some_and(is_closing) {
                node.clone().remove();
            }
        }
    }
    let (fixed, gaps) = split(container);
    let matched = align(&fixed, before, inserted);
    let mut exact = true;
    for (k, gap) in gaps.iter().enumerate() {
        let (left, right) = (matched[k], matched[k + 1]);
        let want = match (left, right) {
            (Some(a), Some(b)) if b == a + 1 => before.gaps[a].clone(),
            // What stood before an original child (the closing bracket) stands before it again.
            (_, Some(b)) if b > 0 => before.gaps[b - 1].clone(),
            (_, Some(_)) => String::new(),
            // Before the entry: the separator after a comma, nothing after an opening bracket.
            (_, None) if fixed[k + 1].is_comma() => String::new(),
            (_, None) if is_opening(&fixed[k]) => String::new(),
            (_, None) => style.after_comma.clone(),
        };
        exact &= set_gap(gap, &want);
    }
    exact
}

/// Writes a node and everything in it on one line: no blank inside brackets, `style`'s
/// separators after colons and commas, no trailing commas.
pub(crate) fn compact(node: &CstNode, style: &Compact) {
    let CstNode::Container(container) = node else {
        return;
    };
    let (fixed, _) = split(container);
    for (k, node) in fixed.iter().enumerate() {
        if node.is_comma() && fixed.get(k + 1).is_some_and(is_closing) {
            node.clone().remove();
        }
    }
    let (fixed, gaps) = split(container);
    for (k, gap) in gaps.iter().enumerate() {
        let want = if fixed[k].token_char() == Some(':') {
            style.after_colon.as_str()
        } else if fixed[k].is_comma() {
            style.after_comma.as_str()
        } else {
            ""
        };
        set_gap(gap, want);
    }
    for child in fixed {
        compact(&child, style);
    }
}
