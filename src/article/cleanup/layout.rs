//! Layout tables: a page built of tables lays its article, and what comes
//! after it, one row under the other in a single column. Such a cell is a
//! place on the page, not a cell of a table the article holds, so the
//! lines in it are judged as lines, not as a structure's content.

use ego_tree::NodeRef;
use scraper::Node;

/// Whether the cell `cell` (a `td` or `th`) is alone in its row.
pub(super) fn is_layout_cell(cell: NodeRef<'_, Node>) -> bool {
    let Some(row) = cell.parent() else {
        return false;
    };
    row.value().as_element().is_some_and(|e| e.name() == "tr")
        && row
            .children()
            .filter_map(|c| c.value().as_element())
            .filter(|e| matches!(e.name(), "td" | "th"))
            .count()
            == 1
}
