//! The house rules, checked on the source (issue #18): no import cycle
//! between the library's files or between its top-level modules, and each
//! layer keeps away from what it must never import.
//!
//! Every file of the library (from `src/lib.rs` down its `mod` tree) is
//! parsed with `syn`. Each `crate::`, `super::` and `self::` path (in `use`
//! items, in code, and inside macro calls such as `format!`) is resolved to
//! the file that defines the item it names, following `use` re-exports and
//! glob re-exports, so `crate::store::RowKey` points at the file that
//! defines `RowKey`, not at `store/mod.rs` that re-exports it. Test code
//! counts like any other code.
//!
//! One edge is left out on purpose: a module reaching into its own
//! submodules (`store/mod.rs` naming `events::SyncSource`). A folder's
//! `mod.rs` is its front door and assembles its files; the files reaching
//! back into it for shared types (`super::Store`) is the dependency that
//! counts. Doc links (`[`crate::x`]`) are not imports and are not read.

// Test code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use proc_macro2::{TokenStream, TokenTree};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use syn::visit::Visit;

/// A module's path from the crate root: `["store", "events"]`.
type ModPath = Vec<String>;

/// Crates only the dashboard (egui) may use.
const GUI_CRATES: &[&str] = &[
    "egui",
    "eframe",
    "egui_plot",
    "egui_extras",
    "egui_kittest",
    "egui_material_icons",
    "rfd",
];

/// Files outside `src/ui/` allowed to name a [`GUI_CRATES`] crate, each with
/// its reason. Keep this list short: a new entry is a layering decision.
const GUI_EXCEPTIONS: &[(&str, &str)] = &[(
    "src/desktop.rs",
    "desktop integration: its unit test checks that eframe decodes the window icon it installs",
)];

/// Crates the UI must reach only through the worker (storage, network).
const NOT_IN_UI: &[&str] = &["rusqlite", "reqwest"];

/// One module: the file it lives in and the names it defines or imports.
#[derive(Default)]
struct Module {
    /// The file, relative to the crate root, e.g. `src/store/events.rs`.
    file: String,
    /// Names of the items defined here (functions, types, constants, …).
    items: BTreeSet<String>,
    /// Submodules, inline or in their own file.
    children: BTreeSet<String>,
    /// `use` items, flattened: (path as written, binding or `None` for a glob).
    raw_uses: Vec<(Vec<String>, Option<String>)>,
    /// Resolved `use` bindings: name -> absolute path.
    imports: BTreeMap<String, ModPath>,
    /// Resolved glob imports: absolute module paths.
    globs: Vec<ModPath>,
}

/// Where an edge was seen, for the failure message.
#[derive(Clone)]
struct Evidence {
    /// The importing file.
    file: String,
    /// Its line (1-based) where the path starts.
    line: usize,
    /// The path as written, e.g. `crate::ui::APP_ID`.
    path: String,
}

/// The library as this test sees it.
struct Crate {
    root: PathBuf,
    modules: BTreeMap<ModPath, Module>,
    /// File-module paths, by file.
    file_modules: BTreeMap<String, ModPath>,
    /// Parsed files.
    asts: BTreeMap<String, syn::File>,
}

/// `p` relative to `root`, with `/` separators (`src/store/events.rs`).
fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Flattens a use tree into (full path, binding); a glob has no binding.
fn flatten_use(
    tree: &syn::UseTree,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            if name == "self" {
                let bind = prefix.last().cloned();
                out.push((prefix.clone(), bind));
            } else {
                let mut full = prefix.clone();
                full.push(name.clone());
                out.push((full, Some(name)));
            }
        }
        syn::UseTree::Rename(r) => {
            let mut full = prefix.clone();
            let name = r.ident.to_string();
            if name != "self" {
                full.push(name);
            }
            out.push((full, Some(r.rename.to_string())));
        }
        syn::UseTree::Glob(_) => out.push((prefix.clone(), None)),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                flatten_use(t, prefix, out);
            }
        }
    }
}

impl Crate {
    /// Reads the library under `root` (which holds `src/lib.rs`).
    fn load(root: &Path) -> Crate {
        let mut krate = Crate {
            root: root.to_path_buf(),
            modules: BTreeMap::new(),
            file_modules: BTreeMap::new(),
            asts: BTreeMap::new(),
        };
        krate.load_file(&root.join("src/lib.rs"), Vec::new(), true);
        krate.resolve_uses();
        krate
    }

    /// Loads one file module; `owns_dir` is true for lib.rs and mod.rs,
    /// whose submodules live next to them rather than in a folder of their name.
    fn load_file(&mut self, path: &Path, mpath: ModPath, owns_dir: bool) {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let ast = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()));
        let file = rel(&self.root, path);
        let dir = if owns_dir {
            path.parent().unwrap().to_path_buf()
        } else {
            path.with_extension("")
        };
        self.file_modules.insert(file.clone(), mpath.clone());
        self.collect(&ast.items, &file, &dir, mpath);
        self.asts.insert(file, ast);
    }

    fn collect(&mut self, items: &[syn::Item], file: &str, dir: &Path, mpath: ModPath) {
        let mut m = Module {
            file: file.to_string(),
            ..Module::default()
        };
        let mut subs = Vec::new();
        for item in items {
            let name = match item {
                syn::Item::Const(i) => Some(&i.ident),
                syn::Item::Enum(i) => Some(&i.ident),
                syn::Item::Fn(i) => Some(&i.sig.ident),
                syn::Item::Macro(i) => i.ident.as_ref(),
                syn::Item::Static(i) => Some(&i.ident),
                syn::Item::Struct(i) => Some(&i.ident),
                syn::Item::Trait(i) => Some(&i.ident),
                syn::Item::TraitAlias(i) => Some(&i.ident),
                syn::Item::Type(i) => Some(&i.ident),
                syn::Item::Union(i) => Some(&i.ident),
                syn::Item::Use(u) => {
                    flatten_use(&u.tree, &mut Vec::new(), &mut m.raw_uses);
                    None
                }
                syn::Item::Mod(md) => {
                    m.children.insert(md.ident.to_string());
                    subs.push(md);
                    None
                }
                _ => None,
            };
            if let Some(n) = name {
                m.items.insert(n.to_string());
            }
        }
        self.modules.insert(mpath.clone(), m);
        for md in subs {
            let name = md.ident.to_string();
            let mut child = mpath.clone();
            child.push(name.clone());
            match &md.content {
                Some((_, inner)) => self.collect(inner, file, &dir.join(&name), child),
                None => {
                    let flat = dir.join(format!("{name}.rs"));
                    if flat.exists() {
                        self.load_file(&flat, child, false);
                    } else {
                        self.load_file(&dir.join(&name).join("mod.rs"), child, true);
                    }
                }
            }
        }
    }

    /// Turns a path written in module `ctx` into one from the crate root;
    /// `None` for paths into other crates.
    fn absolute(&self, segs: &[String], ctx: &ModPath) -> Option<ModPath> {
        let first = segs.first()?;
        let mut out;
        let rest: &[String];
        match first.as_str() {
            "crate" => {
                out = Vec::new();
                rest = &segs[1..];
            }
            "self" => {
                out = ctx.clone();
                rest = &segs[1..];
            }
            "super" => {
                out = ctx.clone();
                let supers = segs.iter().take_while(|s| *s == "super").count();
                for _ in 0..supers {
                    out.pop()?;
                }
                rest = &segs[supers..];
            }
            _ => {
                let m = self.modules.get(ctx)?;
                if m.children.contains(first) {
                    out = ctx.clone();
                    rest = segs;
                } else if let Some(target) = m.imports.get(first) {
                    out = target.clone();
                    rest = &segs[1..];
                } else {
                    return None;
                }
            }
        }
        out.extend(rest.iter().cloned());
        Some(out)
    }

    fn resolve_uses(&mut self) {
        // Twice: a `use` may start from a name another `use` brought in.
        for _ in 0..2 {
            let keys: Vec<ModPath> = self.modules.keys().cloned().collect();
            for k in keys {
                let raw = self.modules[&k].raw_uses.clone();
                let mut imports = BTreeMap::new();
                let mut globs = Vec::new();
                for (segs, bind) in raw {
                    let Some(abs) = self.absolute(&segs, &k) else {
                        continue;
                    };
                    match bind {
                        Some(b) => {
                            imports.insert(b, abs);
                        }
                        None => globs.push(abs),
                    }
                }
                let m = self.modules.get_mut(&k).unwrap();
                m.imports = imports;
                m.globs = globs;
            }
        }
    }

    /// The module at `path`, if `path` names one.
    fn module_at(&self, path: &[String]) -> Option<&Module> {
        self.modules.get(path)
    }

    /// Whether module `m` can name `seg`, defined there or imported.
    fn names(&self, m: &Module, seg: &str) -> bool {
        m.items.contains(seg) || m.children.contains(seg) || m.imports.contains_key(seg)
    }

    /// The file that defines what the absolute `path` names.
    fn resolve(&self, path: &[String], depth: usize) -> String {
        let mut cur: ModPath = Vec::new();
        for (i, seg) in path.iter().enumerate() {
            let m = &self.modules[&cur];
            if m.children.contains(seg) {
                cur.push(seg.clone());
                continue;
            }
            if m.items.contains(seg) || depth > 16 {
                return m.file.clone();
            }
            if let Some(target) = m.imports.get(seg) {
                let mut next = target.clone();
                next.extend(path[i + 1..].iter().cloned());
                return self.resolve(&next, depth + 1);
            }
            for g in &m.globs {
                if self.module_at(g).is_some_and(|gm| self.names(gm, seg)) {
                    let mut next = g.clone();
                    next.extend(path[i..].iter().cloned());
                    return self.resolve(&next, depth + 1);
                }
            }
            return m.file.clone();
        }
        self.modules[&cur].file.clone()
    }

    /// Every import edge between files, with where each was seen first,
    /// and the external crates each file names.
    fn scan(&self) -> Scan {
        let mut scan = Scan::default();
        for (file, ast) in &self.asts {
            let mut v = Visitor {
                krate: self,
                file,
                ctx: self.file_modules[file].clone(),
                scan: &mut scan,
            };
            v.visit_file(ast);
        }
        scan
    }

    /// True when `from` is a module file that `to` sits inside (a folder's
    /// `mod.rs` using its own files); see the header.
    fn is_own_submodule(&self, from: &str, to: &str) -> bool {
        let (f, t) = (&self.file_modules[from], &self.file_modules[to]);
        t.len() > f.len() && t.starts_with(f)
    }
}

/// What a scan found.
#[derive(Default)]
struct Scan {
    /// file -> file it imports from -> first place seen.
    edges: BTreeMap<String, BTreeMap<String, Evidence>>,
    /// file -> external crate -> first place seen.
    externals: BTreeMap<String, BTreeMap<String, Evidence>>,
}

/// Walks one file's syntax tree, recording edges into [`Scan`].
struct Visitor<'a> {
    krate: &'a Crate,
    file: &'a str,
    ctx: ModPath,
    scan: &'a mut Scan,
}

impl Visitor<'_> {
    /// Records the path `segs` seen at `line`: an edge to the file that
    /// defines it (for `crate`, `self` and `super` paths, and `use` paths
    /// through a submodule or an import), or the external crate it names.
    fn record(&mut self, segs: &[String], line: usize, in_use: bool) {
        let Some(first) = segs.first() else {
            return;
        };
        let local = matches!(first.as_str(), "crate" | "self" | "super");
        if !local {
            let named = in_use || segs.len() > 1;
            if named && first.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                self.scan
                    .externals
                    .entry(self.file.to_string())
                    .or_default()
                    .entry(first.clone())
                    .or_insert(Evidence {
                        file: self.file.to_string(),
                        line,
                        path: segs.join("::"),
                    });
            }
            if !in_use {
                return;
            }
        }
        if segs.len() < 2 && first != "crate" {
            return;
        }
        let Some(abs) = self.krate.absolute(segs, &self.ctx) else {
            return;
        };
        let to = self.krate.resolve(&abs, 0);
        if to == self.file {
            return;
        }
        self.scan
            .edges
            .entry(self.file.to_string())
            .or_default()
            .entry(to)
            .or_insert(Evidence {
                file: self.file.to_string(),
                line,
                path: segs.join("::"),
            });
    }

    /// Finds `a::b::c` paths inside a macro call's tokens.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            if let TokenTree::Group(g) = &trees[i] {
                self.scan_tokens(g.stream());
                i += 1;
                continue;
            }
            let TokenTree::Ident(id) = &trees[i] else {
                i += 1;
                continue;
            };
            // `$crate` inside macro_rules is the defining crate, not a path here.
            let after_dollar =
                i > 0 && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == '$');
            let mut segs = vec![id.to_string()];
            let line = id.span().start().line;
            let mut j = i + 1;
            loop {
                let colons = matches!(&trees.get(j), Some(TokenTree::Punct(p)) if p.as_char() == ':')
                    && matches!(&trees.get(j + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                match (colons, trees.get(j + 2)) {
                    (true, Some(TokenTree::Ident(next))) => {
                        segs.push(next.to_string());
                        j += 3;
                    }
                    _ => break,
                }
            }
            if segs.len() > 1 && !after_dollar {
                self.record(&segs, line, false);
            }
            i = j;
        }
    }
}

impl<'ast> Visit<'ast> for Visitor<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        // A file module is visited on its own, with its own context.
        if m.content.is_none() {
            return;
        }
        self.ctx.push(m.ident.to_string());
        syn::visit::visit_item_mod(self, m);
        self.ctx.pop();
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut flat = Vec::new();
        flatten_use(&u.tree, &mut Vec::new(), &mut flat);
        let line = u.use_token.span.start().line;
        for (segs, _) in flat {
            self.record(&segs, line, true);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.leading_colon.is_none() {
            let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
            let line = p
                .segments
                .first()
                .map_or(0, |s| s.ident.span().start().line);
            self.record(&segs, line, false);
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.scan_tokens(m.tokens.clone());
        syn::visit::visit_macro(self, m);
    }
}

/// A graph of names; cycles are reported as `a -> b -> a`, with evidence.
struct Graph {
    edges: BTreeMap<String, BTreeMap<String, Evidence>>,
}

impl Graph {
    /// Strongly connected components with more than one node (Tarjan).
    fn tangles(&self) -> Vec<Vec<String>> {
        let nodes: BTreeSet<&String> = self
            .edges
            .iter()
            .flat_map(|(a, bs)| std::iter::once(a).chain(bs.keys()))
            .collect();
        let nodes: Vec<&String> = nodes.into_iter().collect();
        let index_of: BTreeMap<&String, usize> =
            nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let succ: Vec<Vec<usize>> = nodes
            .iter()
            .map(|n| {
                self.edges
                    .get(*n)
                    .map(|bs| bs.keys().map(|b| index_of[b]).collect())
                    .unwrap_or_default()
            })
            .collect();
        let mut t = Tarjan {
            succ: &succ,
            index: vec![None; nodes.len()],
            low: vec![0; nodes.len()],
            on_stack: vec![false; nodes.len()],
            stack: Vec::new(),
            next: 0,
            out: Vec::new(),
        };
        for v in 0..nodes.len() {
            if t.index[v].is_none() {
                t.connect(v);
            }
        }
        let mut out: Vec<Vec<String>> = t
            .out
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|c| {
                let mut names: Vec<String> = c.iter().map(|&i| nodes[i].clone()).collect();
                names.sort();
                names
            })
            .collect();
        out.sort();
        out
    }

    /// The shortest cycle through the first node of `tangle`, as text.
    fn describe(&self, tangle: &[String]) -> String {
        let inside: BTreeSet<&String> = tangle.iter().collect();
        let start = &tangle[0];
        let mut prev: BTreeMap<&String, &String> = BTreeMap::new();
        let mut queue = VecDeque::from([start]);
        let mut back = None;
        'bfs: while let Some(n) = queue.pop_front() {
            for m in self.edges.get(n).into_iter().flat_map(|bs| bs.keys()) {
                if m == start {
                    back = Some(n);
                    break 'bfs;
                }
                if inside.contains(m) && !prev.contains_key(m) {
                    prev.insert(m, n);
                    queue.push_back(m);
                }
            }
        }
        let mut middle = Vec::new();
        let mut n = back.expect("a tangle has a cycle through each node");
        while n != start {
            middle.push(n);
            n = prev[n];
        }
        middle.reverse();
        let path: Vec<&String> = std::iter::once(start)
            .chain(middle)
            .chain(std::iter::once(start))
            .collect();
        let mut text = String::from(start);
        for w in path.windows(2) {
            let ev = &self.edges[w[0]][w[1]];
            let _ = write!(
                text,
                "\n      -> {}   ({} line {}: {})",
                w[1], ev.file, ev.line, ev.path
            );
        }
        if tangle.len() > 2 {
            let _ = write!(text, "\n      (all in this tangle: {})", tangle.join(", "));
        }
        text
    }

    fn report(&self, what: &str) -> Option<String> {
        let tangles = self.tangles();
        if tangles.is_empty() {
            return None;
        }
        let mut msg = format!("{} import cycle(s) between {what}:\n", tangles.len());
        for t in &tangles {
            let _ = writeln!(msg, "  - {}", self.describe(t));
        }
        Some(msg)
    }
}

/// Tarjan's strongly connected components, over node indices.
struct Tarjan<'a> {
    succ: &'a [Vec<usize>],
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    next: usize,
    out: Vec<Vec<usize>>,
}

impl Tarjan<'_> {
    fn connect(&mut self, v: usize) {
        self.index[v] = Some(self.next);
        self.low[v] = self.next;
        self.next += 1;
        self.stack.push(v);
        self.on_stack[v] = true;
        for &w in &self.succ[v] {
            match self.index[w] {
                None => {
                    self.connect(w);
                    self.low[v] = self.low[v].min(self.low[w]);
                }
                Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(self.low[v]) == self.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = self.stack.pop() {
                self.on_stack[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            self.out.push(comp);
        }
    }
}

/// The analysis of one source tree.
struct House {
    krate: Crate,
    scan: Scan,
}

impl House {
    fn of(root: &Path) -> House {
        let krate = Crate::load(root);
        let scan = krate.scan();
        House { krate, scan }
    }

    /// Import edges between files, without a module's edges into its own files.
    fn file_graph(&self) -> Graph {
        let mut edges: BTreeMap<String, BTreeMap<String, Evidence>> = BTreeMap::new();
        for (from, tos) in &self.scan.edges {
            for (to, ev) in tos {
                if !self.krate.is_own_submodule(from, to) {
                    edges
                        .entry(from.clone())
                        .or_default()
                        .insert(to.clone(), ev.clone());
                }
            }
        }
        Graph { edges }
    }

    /// The top-level module a file belongs to (`store` for
    /// `src/store/events.rs`); `None` for `lib.rs`.
    fn top(&self, file: &str) -> Option<String> {
        self.krate.file_modules[file].first().cloned()
    }

    /// Import edges between top-level modules, each with one file-level example.
    fn module_graph(&self) -> Graph {
        let mut edges: BTreeMap<String, BTreeMap<String, Evidence>> = BTreeMap::new();
        for (from, tos) in &self.scan.edges {
            for (to, ev) in tos {
                let (Some(a), Some(b)) = (self.top(from), self.top(to)) else {
                    continue;
                };
                if a != b {
                    edges
                        .entry(a)
                        .or_default()
                        .entry(b)
                        .or_insert_with(|| ev.clone());
                }
            }
        }
        Graph { edges }
    }
}

/// This checkout, or the one `REFBOARD_ARCHITECTURE_ROOT` names (to check
/// another tree with this test, e.g. an older commit exported with `git archive`).
fn house() -> House {
    match std::env::var_os("REFBOARD_ARCHITECTURE_ROOT") {
        Some(root) => House::of(Path::new(&root)),
        None => House::of(Path::new(env!("CARGO_MANIFEST_DIR"))),
    }
}

#[test]
fn no_import_cycle_between_files() {
    if let Some(msg) = house().file_graph().report("files") {
        panic!("{msg}");
    }
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    if let Some(msg) = house().module_graph().report("top-level modules") {
        panic!("{msg}");
    }
}

#[test]
fn model_imports_nothing_of_refboards_other_modules() {
    let house = house();
    let mut found = Vec::new();
    for (from, tos) in &house.scan.edges {
        if !from.starts_with("src/model/") {
            continue;
        }
        for (to, ev) in tos {
            if !to.starts_with("src/model/") {
                found.push(format!("{from} line {}: {} ({to})", ev.line, ev.path));
            }
        }
    }
    assert!(
        found.is_empty(),
        "model must stay pure; it imports:\n{}",
        found.join("\n")
    );
    let io = external_uses(&house, NOT_IN_UI, |file| !file.starts_with("src/model/"));
    assert!(
        io.is_empty(),
        "model must stay pure; it uses:\n{}",
        io.join("\n")
    );
}

/// The layers of docs/architecture.md, bottom first. A top-level module may
/// import modules of its own layer or of the layers before it, never of a
/// later one; a new top-level module must be placed here first.
const LAYERS: &[(&str, &[&str])] = &[
    ("domain", &["model"]),
    ("plumbing", &["secrets", "csv_safe", "messenger"]),
    ("storage", &["db", "store"]),
    ("artwork", &["codes"]),
    ("documents", &["print", "export"]),
    ("figures", &["stats"]),
    (
        "servers and clients",
        &["relay", "sync", "import", "simulate", "graph"],
    ),
    ("use cases", &["report", "desktop", "demo", "ops", "worker"]),
    ("front ends", &["ui", "cli"]),
];

/// The index in [`LAYERS`] of top-level module `m`.
fn layer_of(m: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&m))
}

#[test]
fn imports_point_down_the_layers() {
    let house = house();
    let graph = house.module_graph();
    let mut found = Vec::new();
    let modules: BTreeSet<String> = house
        .krate
        .file_modules
        .values()
        .filter_map(|m| m.first().cloned())
        .collect();
    for m in &modules {
        if layer_of(m).is_none() {
            found.push(format!(
                "{m} is in no layer; add it to LAYERS and docs/architecture.md"
            ));
        }
    }
    for (from, tos) in &graph.edges {
        for (to, ev) in tos {
            if let (Some(a), Some(b)) = (layer_of(from), layer_of(to))
                && a < b
            {
                found.push(format!(
                    "{from} ({}) imports {to} ({}): {} line {}: {}",
                    LAYERS[a].0, LAYERS[b].0, ev.file, ev.line, ev.path
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "imports must point down the layers:\n{}",
        found.join("\n")
    );
}

/// Every use of one of `crates` by a file that `allowed` does not accept.
fn external_uses(house: &House, crates: &[&str], allowed: impl Fn(&str) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    for (file, used) in &house.scan.externals {
        if allowed(file) {
            continue;
        }
        for (name, ev) in used {
            if crates.contains(&name.as_str()) {
                found.push(format!("{file} line {}: {}", ev.line, ev.path));
            }
        }
    }
    found
}

#[test]
fn only_the_ui_uses_egui_eframe_and_rfd() {
    let house = house();
    let found = external_uses(&house, GUI_CRATES, |file| {
        file.starts_with("src/ui/") || GUI_EXCEPTIONS.iter().any(|(f, _)| *f == file)
    });
    assert!(
        found.is_empty(),
        "only src/ui/ (and the files in GUI_EXCEPTIONS) may use the GUI crates:\n{}",
        found.join("\n")
    );
    // The exceptions must still be needed, or the list rots.
    for (file, why) in GUI_EXCEPTIONS {
        let uses = house.scan.externals.get(*file);
        assert!(
            uses.is_some_and(|u| GUI_CRATES.iter().any(|c| u.contains_key(*c))),
            "{file} no longer uses a GUI crate; remove its exception ({why})"
        );
    }
}

#[test]
fn the_binary_uses_no_gui_crate_directly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("src/main.rs")).unwrap();
    let ast = syn::parse_file(&text).unwrap();
    let krate = Crate {
        root: root.to_path_buf(),
        modules: BTreeMap::from([(Vec::new(), Module::default())]),
        file_modules: BTreeMap::from([("src/main.rs".to_string(), Vec::new())]),
        asts: BTreeMap::new(),
    };
    let mut scan = Scan::default();
    Visitor {
        krate: &krate,
        file: "src/main.rs",
        ctx: Vec::new(),
        scan: &mut scan,
    }
    .visit_file(&ast);
    let house = House { krate, scan };
    let found = external_uses(&house, GUI_CRATES, |_| false);
    assert!(
        found.is_empty(),
        "main.rs starts the GUI through refboard::ui; it names:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_ui_never_uses_rusqlite_or_reqwest() {
    let house = house();
    let found = external_uses(&house, NOT_IN_UI, |file| !file.starts_with("src/ui/"));
    assert!(
        found.is_empty(),
        "the UI reaches storage and the network only through the worker:\n{}",
        found.join("\n")
    );
}

/// The checker itself, on small made-up crates: it must see a cycle that
/// goes through a re-export and a macro, and must not see one where a
/// folder's mod.rs uses its own file.
#[test]
fn the_checker_finds_cycles_through_re_exports_and_macros() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("src/lib.rs", "pub mod a;\npub mod b;\npub mod c;\n");
    write(
        "src/a/mod.rs",
        "mod inner;\npub use inner::Thing;\npub fn f() { inner::g(); }\n",
    );
    write(
        "src/a/inner.rs",
        "pub struct Thing;\npub fn g() { let _ = format!(\"{}\", crate::b::NAME); }\nuse super::f as _f;\n",
    );
    write(
        "src/b.rs",
        "pub const NAME: &str = \"b\";\npub type T = crate::a::Thing;\n",
    );
    write("src/c.rs", "use crate::a::f;\n");
    let house = House::of(dir.path());

    let files = house.file_graph().report("files").expect("a cycle");
    assert!(
        files.contains("src/a/inner.rs\n      -> src/b.rs   (src/a/inner.rs line 2: crate::b::NAME)\n      -> src/a/inner.rs   (src/b.rs line 2: crate::a::Thing)"),
        "{files}"
    );
    assert!(files.starts_with("1 import cycle(s)"), "{files}");
    let modules = house.module_graph().report("modules").expect("a cycle");
    assert!(modules.contains("a\n      -> b"), "{modules}");
    assert!(!modules.contains("-> c"), "{modules}");
}
