//! Where each field of a document was written, kept as a tree of the document's nodes (a
//! few dozen bytes a node, the keys interned) rather than a map from every path's text: a
//! quote of a million lines has six million nodes, and their paths as strings took 3.7 GB
//! and most of half a minute to hash when one bad line needed its position.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Where each field of a document was written, by path: `lines[2].product`, `customer.id`.
#[derive(Debug, Default)]
pub struct Positions {
    nodes: Vec<Node>,
    /// The keys of the document's mappings, each once.
    keys: Vec<Box<str>>,
    /// The elements of each sequence, by the sequence's node: found by index at once, however
    /// many errors ask for lines far into a long quote.
    elements: HashMap<u32, Vec<u32>>,
}

/// No node, or no position.
const NONE: u32 = u32::MAX;

/// A value of the document.
#[derive(Debug, Clone, Copy)]
struct Node {
    /// Where the field was written: its key, else its value; a mapping where its first key is,
    /// a sequence where it opens.
    at: Option<(u32, u32)>,
    /// Where a scalar's value (not its key) was written.
    value: Option<(u32, u32)>,
    /// The key of a mapping's member, [`NONE`] for a sequence's element.
    key: u32,
    /// A mapping's first member, and a member's next ([`NONE`] when none).
    first: u32,
    next: u32,
}

impl Node {
    const fn new(key: u32) -> Self {
        Node {
            at: None,
            value: None,
            key,
            first: NONE,
            next: NONE,
        }
    }
}

/// A 1-based position, as the parser marks it.
fn position(mark: Marker) -> (u32, u32) {
    let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
    (n(mark.line()), n(mark.col() + 1))
}

/// A 1-based line and column.
fn widen((line, col): (u32, u32)) -> (usize, usize) {
    (line as usize, col as usize)
}

impl Positions {
    /// Reads the positions of a document; an unreadable document gives no positions.
    pub fn of(text: &str) -> Self {
        of_json(text).unwrap_or_else(|| Positions::of_yaml(text))
    }

    /// [`Positions::of`] a document read by the YAML parser.
    fn of_yaml(text: &str) -> Self {
        let mut r = Recorder::default();
        r.tree.nodes.push(Node::new(NONE));
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut r, false).is_err() {
            return Positions::default();
        }
        r.tree
    }

    /// 1-based line and column of a scalar's value (`Q-1` in `quote: Q-1`), for an error
    /// about the value rather than the field.
    pub fn value(&self, path: &str) -> Option<(usize, usize)> {
        self.find(0, path, |n| n.value).map(widen)
    }

    /// 1-based line and column of a path, or of its nearest recorded parent.
    pub fn get(&self, path: &str) -> Option<(usize, usize)> {
        let mut p = path;
        loop {
            if let Some(v) = self.find(0, p, |n| n.at) {
                return Some(widen(v));
            }
            let cut = p.rfind(['.', '['])?;
            p = p.get(..cut)?;
        }
    }

    /// What `what` says of the node at `path` below node `from`; of the first in the
    /// document's order where a key repeats or holds a `.` or `[`, as a map from the paths'
    /// text would keep the first.
    fn find(
        &self,
        from: u32,
        path: &str,
        what: impl Fn(&Node) -> Option<(u32, u32)> + Copy,
    ) -> Option<(u32, u32)> {
        let node = self.nodes.get(from as usize)?;
        if path.is_empty() {
            return what(node);
        }
        if let Some(inner) = path.strip_prefix('[') {
            let (digits, rest) = inner.split_once(']')?;
            let k = digits.parse::<usize>().ok()?;
            let element = *self.elements.get(&from)?.get(k)?;
            return self.find(element, rest, what);
        }
        let rest = path.strip_prefix('.').unwrap_or(path);
        let mut child = node.first;
        while let Some(c) = self.nodes.get(child as usize) {
            let found = self
                .keys
                .get(c.key as usize)
                .and_then(|key| rest.strip_prefix(&**key))
                .filter(|after| after.is_empty() || after.starts_with(['.', '[']))
                .and_then(|after| self.find(child, after, what));
            if found.is_some() {
                return found;
            }
            child = c.next;
        }
        None
    }
}

/// A mapping or sequence being read: its node, its last member, and in a mapping the member
/// whose value is to come.
struct Frame {
    node: u32,
    last: u32,
    /// A mapping's member whose key is read: [`NONE`] while a key is to come. A sequence's
    /// is always [`NONE`].
    pending: u32,
    map: bool,
}

#[derive(Default)]
struct Recorder {
    tree: Positions,
    stack: Vec<Frame>,
    interned: HashMap<Box<str>, u32>,
}

impl Recorder {
    fn node(&mut self, n: u32) -> Option<&mut Node> {
        self.tree.nodes.get_mut(n as usize)
    }

    /// A new member of the current container: its last, or its next element.
    fn member(&mut self, key: u32) -> u32 {
        let id = u32::try_from(self.tree.nodes.len()).unwrap_or(NONE);
        self.tree.nodes.push(Node::new(key));
        let Some(top) = self.stack.last_mut() else {
            return id;
        };
        if !top.map {
            self.tree.elements.entry(top.node).or_default().push(id);
            return id;
        }
        let (parent, last) = (top.node, top.last);
        top.last = id;
        let link = match last {
            NONE => self.node(parent).map(|p| &mut p.first),
            _ => self.node(last).map(|prev| &mut prev.next),
        };
        if let Some(link) = link {
            *link = id;
        }
        id
    }

    /// The node of the value about to be read: a mapping's member whose key was read, a new
    /// element of a sequence, the root at the top; `None` for a mapping's complex key.
    fn value_node(&mut self) -> Option<u32> {
        match self.stack.last() {
            None => Some(0),
            Some(f) if f.map => (f.pending != NONE).then_some(f.pending),
            Some(_) => Some(self.member(NONE)),
        }
    }

    fn after_value(&mut self) {
        if let Some(f) = self.stack.last_mut() {
            f.pending = NONE;
        }
    }

    fn intern(&mut self, key: String) -> u32 {
        if let Some(&k) = self.interned.get(key.as_str()) {
            return k;
        }
        let k = u32::try_from(self.tree.keys.len()).unwrap_or(NONE);
        let key: Box<str> = key.into();
        self.tree.keys.push(key.clone());
        self.interned.insert(key, k);
        k
    }

    /// A mapping's key `key`, written at `at`.
    fn key(&mut self, key: String, at: (u32, u32)) {
        let Some(&Frame { node, .. }) = self.stack.last() else {
            return;
        };
        // A mapping starts where its first key is written (the root is no field).
        if node != 0
            && let Some(n) = self.node(node)
        {
            n.at.get_or_insert(at);
        }
        let k = self.intern(key);
        let member = self.member(k);
        if let Some(n) = self.node(member) {
            n.at = Some(at);
        }
        if let Some(f) = self.stack.last_mut() {
            f.pending = member;
        }
    }
}

impl Recorder {
    /// Whether a mapping's key is to come.
    fn expects_key(&self) -> bool {
        matches!(self.stack.last(), Some(f) if f.map && f.pending == NONE)
    }

    /// A scalar value, written at `at`.
    fn scalar(&mut self, at: (u32, u32)) {
        // The root is no field.
        let node = self.value_node().filter(|&v| v != 0);
        if let Some(n) = node.and_then(|v| self.node(v)) {
            n.value.get_or_insert(at);
            n.at.get_or_insert(at);
        }
        self.after_value();
    }

    /// A mapping (`map`) or sequence opening at `at`.
    fn open(&mut self, map: bool, at: (u32, u32)) {
        let node = self.value_node();
        if !map
            && node != Some(0)
            && let Some(n) = node.and_then(|v| self.node(v))
        {
            n.at.get_or_insert(at);
        }
        self.stack.push(Frame {
            // A complex key's contents go to no node.
            node: node.unwrap_or(NONE),
            last: NONE,
            pending: NONE,
            map,
        });
    }

    /// The mapping or sequence read last closes.
    fn close(&mut self) {
        self.stack.pop();
        self.after_value();
    }
}

impl MarkedEventReceiver for Recorder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let at = position(mark);
        match ev {
            Event::Scalar(value, ..) if self.expects_key() => self.key(value, at),
            Event::Scalar(..) => self.scalar(at),
            Event::MappingStart(..) => self.open(true, at),
            Event::SequenceStart(..) => self.open(false, at),
            Event::MappingEnd | Event::SequenceEnd => self.close(),
            Event::Alias(_) => {
                // An alias takes its place in a sequence, with no position of its own.
                if matches!(self.stack.last(), Some(f) if !f.map) {
                    self.member(NONE);
                }
                self.after_value();
            }
            _ => {}
        }
    }
}

/// A JSON document read for its positions as the YAML parser marks them (lines from 1,
/// columns in characters from 1; a value where its first character is, a string at its
/// quote). The YAML parser holds every token of a document written on one line until its end,
/// gigabytes for a long quote; JSON needs none of that. `None` when the text is not plain
/// JSON: the YAML parser reads it then.
struct Json<'t> {
    text: &'t str,
    i: usize,
    line: u32,
    col: u32,
}

impl Json<'_> {
    /// Documents nested deeper are left to the YAML parser (serde_json reads 128 levels).
    const DEPTH: usize = 256;

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.i).copied()
    }

    fn at(&self) -> (u32, u32) {
        (self.line, self.col + 1)
    }

    /// One byte on; a character counts where it starts.
    fn bump(&mut self) {
        if let Some(b) = self.peek() {
            self.i += 1;
            if b & 0xC0 != 0x80 {
                self.col += 1;
            }
        }
    }

    /// Past white space; a `\r\n`, `\r` or `\n` ends a line.
    fn space(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' => self.bump(),
                b'\n' | b'\r' => {
                    self.i += 1;
                    if b == b'\r' && self.peek() == Some(b'\n') {
                        self.i += 1;
                    }
                    (self.line, self.col) = (self.line + 1, 0);
                }
                _ => return,
            }
        }
    }

    /// Past a string, its quote first: its text between the quotes, as written.
    fn string(&mut self) -> Option<&str> {
        let start = self.i + 1;
        self.bump();
        loop {
            match self.peek()? {
                b'"' => break,
                b'\\' => {
                    self.bump();
                    self.bump();
                }
                c if c < 0x20 => return None,
                _ => self.bump(),
            }
        }
        let raw = self.text.get(start..self.i)?;
        self.bump();
        Some(raw)
    }

    /// A key's text, unescaped as the YAML parser unescapes it.
    fn key(&mut self) -> Option<String> {
        let raw = self.string()?;
        match raw.contains('\\') {
            false => Some(raw.to_string()),
            true => serde_json::from_str(&format!("\"{raw}\"")).ok(),
        }
    }

    /// A value and what it holds, recorded.
    fn value(&mut self, r: &mut Recorder, depth: usize) -> Option<()> {
        self.space();
        let at = self.at();
        match self.peek()? {
            b'{' | b'[' if depth >= Json::DEPTH => return None,
            open @ (b'{' | b'[') => {
                let (map, close) = if open == b'{' {
                    (true, b'}')
                } else {
                    (false, b']')
                };
                self.bump();
                r.open(map, at);
                self.space();
                if self.peek() == Some(close) {
                    self.bump();
                    r.close();
                    return Some(());
                }
                loop {
                    if map {
                        self.space();
                        let at = self.at();
                        (self.peek() == Some(b'"')).then_some(())?;
                        let key = self.key()?;
                        r.key(key, at);
                        self.space();
                        (self.peek() == Some(b':')).then_some(())?;
                        self.bump();
                    }
                    self.value(r, depth + 1)?;
                    self.space();
                    match self.peek()? {
                        b',' => self.bump(),
                        c if c == close => break,
                        _ => return None,
                    }
                }
                self.bump();
                r.close();
            }
            b'"' => {
                self.string()?;
                r.scalar(at);
            }
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                while self
                    .peek()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'))
                {
                    self.bump();
                }
                r.scalar(at);
            }
            _ => return None,
        }
        Some(())
    }
}

/// [`Positions::of`] a JSON document, `None` when it is not plain JSON.
fn of_json(text: &str) -> Option<Positions> {
    let mut r = Recorder::default();
    r.tree.nodes.push(Node::new(NONE));
    let mut json = Json {
        text,
        i: 0,
        line: 1,
        col: 0,
    };
    json.value(&mut r, 0)?;
    json.space();
    json.peek().is_none().then_some(r.tree)
}

#[cfg(test)]
mod tests {
    //! The tree against the map from every path's text it replaced, kept here as the
    //! reference: the same position for every path, and for paths that are not there.
    use super::*;
    use proptest::prelude::*;

    enum PathFrame {
        Map { key: Option<String>, path: String },
        Seq { index: usize, path: String },
    }

    #[derive(Default)]
    struct PathRecorder {
        stack: Vec<PathFrame>,
        map: HashMap<String, (usize, usize)>,
        values: HashMap<String, (usize, usize)>,
    }

    impl PathRecorder {
        /// The path of the value about to be read in the current container.
        fn value_path(&self) -> Option<String> {
            match self.stack.last()? {
                PathFrame::Map { key: Some(k), path } => Some(join(path, k)),
                PathFrame::Map { key: None, .. } => None,
                PathFrame::Seq { index, path } => Some(format!("{path}[{index}]")),
            }
        }

        fn after_value(&mut self) {
            match self.stack.last_mut() {
                Some(PathFrame::Map { key, .. }) => *key = None,
                Some(PathFrame::Seq { index, .. }) => *index += 1,
                None => {}
            }
        }

        fn record(&mut self, path: String, mark: Marker) {
            // Keys are recorded first and win: an error about a field points at its name.
            self.map
                .entry(path)
                .or_insert((mark.line(), mark.col() + 1));
        }
    }

    fn join(path: &str, key: &str) -> String {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    }

    impl MarkedEventReceiver for PathRecorder {
        fn on_event(&mut self, ev: Event, mark: Marker) {
            match ev {
                Event::Scalar(value, ..) => {
                    let is_key =
                        matches!(self.stack.last(), Some(PathFrame::Map { key: None, .. }));
                    if is_key {
                        if let Some(PathFrame::Map { key, path }) = self.stack.last_mut() {
                            let p = join(path, &value);
                            let at = (mark.line(), mark.col() + 1);
                            // A block mapping starts where its first key is written.
                            if !path.is_empty() {
                                self.map.entry(path.clone()).or_insert(at);
                            }
                            *key = Some(value);
                            self.map.entry(p).or_insert(at);
                        }
                    } else {
                        if let Some(p) = self.value_path() {
                            self.values
                                .entry(p.clone())
                                .or_insert((mark.line(), mark.col() + 1));
                            self.record(p, mark);
                        }
                        self.after_value();
                    }
                }
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    let path = self.value_path().unwrap_or_default();
                    if !path.is_empty() && matches!(ev, Event::SequenceStart(..)) {
                        self.record(path.clone(), mark);
                    }
                    self.stack.push(if matches!(ev, Event::MappingStart(..)) {
                        PathFrame::Map { key: None, path }
                    } else {
                        PathFrame::Seq { index: 0, path }
                    });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    self.stack.pop();
                    self.after_value();
                }
                Event::Alias(_) => self.after_value(),
                _ => {}
            }
        }
    }

    /// Every path the reference recorded, with its positions, and some it did not.
    fn compare(text: &str) -> Result<(), TestCaseError> {
        let mut r = PathRecorder::default();
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut r, false).is_err() {
            return Ok(());
        }
        let tree = Positions::of(text);
        let lookup = |p: &str| -> Option<(usize, usize)> {
            let mut p = p;
            loop {
                if let Some(v) = r.map.get(p) {
                    return Some(*v);
                }
                let cut = p.rfind(['.', '['])?;
                p = p.get(..cut)?;
            }
        };
        for path in r.map.keys().chain(r.values.keys()) {
            for p in [path.clone(), format!("{path}.nope"), format!("{path}[7]")] {
                prop_assert_eq!(tree.get(&p), lookup(&p), "get {} of {:?}", p, text);
                prop_assert_eq!(tree.value(&p), r.values.get(&p).copied(), "value {}", p);
            }
        }
        for p in ["", "nope", "[0]", "lines[99]", "a..b", "lines[x]"] {
            prop_assert_eq!(tree.get(p), lookup(p), "get {}", p);
        }
        Ok(())
    }

    /// A YAML or JSON value of mappings (keys repeating, holding dots), sequences and scalars.
    fn value() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec!["a", "b", "ab", "lines", "a.b", "x", "x[1]"]);
        let leaf = prop::sample::select(vec!["1", "Q-1", "\"two words\"", "[]", "{}", "*x"])
            .prop_map(String::from);
        leaf.prop_recursive(4, 32, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(", "))),
                prop::collection::vec((key.clone(), inner), 0..4).prop_map(|v| {
                    let members: Vec<String> =
                        v.iter().map(|(k, x)| format!("\"{k}\": {x}")).collect();
                    format!("{{{}}}", members.join(", "))
                }),
            ]
        })
    }

    /// The JSON reader marks every path where the YAML parser does.
    fn compare_json(text: &str) -> Result<(), TestCaseError> {
        let json = of_json(text);
        prop_assert!(json.is_some(), "not read as JSON: {:?}", text);
        let json = json.unwrap_or_default();
        let yaml = Positions::of_yaml(text);
        let mut r = PathRecorder::default();
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut r, false).is_err() {
            // Tabs where YAML takes none: JSON's reader marks what YAML's could not.
            return Ok(());
        }
        for path in r.map.keys().chain(r.values.keys()) {
            for p in [path.clone(), format!("{path}.nope"), format!("{path}[1]")] {
                prop_assert_eq!(json.get(&p), yaml.get(&p), "get {} of {:?}", p, text);
                prop_assert_eq!(json.value(&p), yaml.value(&p), "value {} of {:?}", p, text);
            }
        }
        Ok(())
    }

    /// A JSON value: keys that repeat, hold dots, accents or escapes; strings with accents
    /// and escaped quotes; numbers and words; white space of every kind between.
    fn json() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "a", "b", "ab", "a.b", "x[1]", "ké", "a\\u0062", "q\\\"",
        ]);
        let space = prop::sample::select(vec!["", " ", "\n", "\r\n", "\n    ", "\t", " \r "]);
        let leaf = prop::sample::select(vec![
            "1",
            "-2.5e3",
            "true",
            "null",
            "\"two words\"",
            "\"é\\\"q\"",
            "[]",
            "{ }",
            "\"日本\"",
        ])
        .prop_map(String::from);
        leaf.prop_recursive(4, 32, 4, move |inner| {
            prop_oneof![
                (prop::collection::vec(inner.clone(), 0..4), space.clone())
                    .prop_map(|(v, w)| { format!("[{w}{}{w}]", v.join(&format!("{w},{w}"))) }),
                (
                    prop::collection::vec((key.clone(), inner), 0..4),
                    space.clone()
                )
                    .prop_map(|(v, w)| {
                        let members: Vec<String> = v
                            .iter()
                            .map(|(k, x)| format!("\"{k}\"{w}:{w}{x}"))
                            .collect();
                        format!("{{{w}{}{w}}}", members.join(&format!(",{w}")))
                    },),
            ]
        })
    }

    proptest! {
        #[test]
        fn the_tree_finds_what_the_map_of_paths_found(v in value()) {
            compare(&format!("&x {v}"))?;
            compare(&v)?;
        }

        #[test]
        fn json_is_marked_where_the_yaml_parser_marks_it(v in json()) {
            compare_json(&v)?;
            compare_json(&format!(" \n{v}\n"))?;
        }
    }

    /// A quote of many lines on one line of JSON is marked to the character, far into it;
    /// what is not plain JSON goes to the YAML parser.
    #[test]
    fn a_long_one_line_quote_is_marked_far_into_it() {
        let lines: Vec<String> = (0..200_000)
            .map(|i| format!(r#"{{"product":"BP","quantity":{i},"note":"é"}}"#))
            .collect();
        let text = format!(r#"{{"quote":"Q","lines":[{}]}}"#, lines.join(","));
        let p = Positions::of(&text);
        let far = text.find(r#""quantity":199999"#).unwrap();
        // Each line before holds one `é`, two bytes and one character.
        let col = far - 200_000 + 1 + 1;
        assert_eq!(p.get("lines[199999].quantity"), Some((1, col)));
        assert_eq!(p.value("lines[199999].quantity"), Some((1, col + 11)));
        assert!(of_json("{a: 1}").is_none() && of_json("[1] x").is_none());
        assert_eq!(Positions::of("{a: 1}").get("a"), Some((1, 2)));
    }

    #[test]
    fn block_yaml_finds_what_the_map_of_paths_found() {
        let text = "quote: Q1\ncustomer:\n  id: C1\n  id: C2\nlines:\n  - product: A\n    quantity: 3\n  - - 1\n    - {a: [2, 3]}\n  - product: B\n    a.b: 4\nafter: 6\n";
        compare(text).unwrap();
        // A key that begins another, and one holding a dot, beside a mapping of that path.
        compare(r#"{"a": {"b": 1}, "ab": 2, "a.b": 3}"#).unwrap();
        let p = Positions::of(text);
        assert_eq!(p.get("lines[2].a.b"), Some((11, 5)));
        assert_eq!(p.get("lines[1][1].a[1]"), Some((9, 15)));
        assert_eq!(
            p.value("customer.id"),
            Some((3, 7)),
            "the first of a repeated key"
        );
    }
}
