//! `link`, `qr` and `export` subcommands.

use super::output::{archived_mark, cell, errln, full, outln, print_json, table};
use super::{Db, warn};
use crate::codes::{Color, DEFAULT_QUIET_ZONE, Ecc, QrStyle};
use crate::export::{BulkOptions, Format, OneOptions};
use crate::model::{ExportItem, NewLink, suggest_ref};
use crate::ops::link::{LinkTarget, save_link};
use crate::print::{LabelPreset, Paper, PrintLayout, PrintOptions};
use crate::store::{LinkFilter, LinkRow, Store};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub(super) enum LinkCmd {
    /// Create a link; without --ref the code is suggested from campaign and channel.
    Add {
        /// Campaign name
        #[arg(long)]
        campaign: String,
        /// Channel name
        #[arg(long)]
        channel: String,
        /// Ref code: letters, digits, '_', '-', '=' [default: campaign-channel]
        #[arg(long = "ref", value_name = "REF")]
        ref_code: Option<String>,
        /// Call to action, e.g. "Get free coupon in Messenger"
        #[arg(long, value_name = "TEXT")]
        cta: Option<String>,
        /// Prefilled message the person can send
        #[arg(long, value_name = "MSG")]
        text: Option<String>,
        /// Notes
        #[arg(long)]
        notes: Option<String>,
        /// The page [default: the only page]
        #[arg(long)]
        page: Option<String>,
    },
    /// List links.
    List {
        /// Only this campaign
        #[arg(long)]
        campaign: Option<String>,
        /// Only this channel
        #[arg(long)]
        channel: Option<String>,
        /// Include archived links
        #[arg(long)]
        all: bool,
        /// The page [default: every page, or the only one]
        #[arg(long)]
        page: Option<String>,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Show one link with its URL.
    Show {
        /// The ref code (case-sensitive)
        #[arg(value_name = "REF")]
        ref_code: String,
        /// Print the QR code in the terminal too
        #[arg(long)]
        qr: bool,
        /// The page [default: the only page]
        #[arg(long)]
        page: Option<String>,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Change a link's ref, campaign, channel, CTA, message or notes.
    Edit {
        /// The current ref code
        #[arg(value_name = "REF")]
        ref_code: String,
        /// New ref code (printed links with the old code stop being counted as this link)
        #[arg(long = "ref", value_name = "NEW_REF")]
        new_ref: Option<String>,
        /// New campaign
        #[arg(long)]
        campaign: Option<String>,
        /// New channel
        #[arg(long)]
        channel: Option<String>,
        /// New call to action
        #[arg(long, value_name = "TEXT")]
        cta: Option<String>,
        /// New prefilled message
        #[arg(long, value_name = "MSG", conflicts_with = "no_text")]
        text: Option<String>,
        /// Remove the prefilled message
        #[arg(long)]
        no_text: bool,
        /// New notes
        #[arg(long)]
        notes: Option<String>,
        /// The page [default: the only page]
        #[arg(long)]
        page: Option<String>,
    },
    /// Hide a link from lists; it keeps working and counting.
    Archive(LinkRef),
    /// Bring back an archived link.
    Unarchive(LinkRef),
    /// Delete a link. Referrals with its ref then show as untracked.
    Remove(LinkRef),
    /// Aliases: extra refs (typos, old codes) whose referrals count for a link.
    #[command(subcommand)]
    Alias(AliasCmd),
}

#[derive(Debug, Subcommand)]
pub(super) enum AliasCmd {
    /// Count referrals with ref ALIAS for a link, past and future.
    Add {
        /// The ref to count, e.g. a typo such as freeshiping (case-sensitive)
        #[arg(value_name = "ALIAS")]
        alias: String,
        /// The link it counts for: its ref code or its id
        #[arg(long, value_name = "REF|ID")]
        link: String,
        /// The page [default: the only page]
        #[arg(long)]
        page: Option<String>,
    },
    /// List aliases.
    List {
        /// Only the aliases of this link (ref code or id)
        #[arg(long, value_name = "REF|ID")]
        link: Option<String>,
        /// The page [default: every page, or the only one]
        #[arg(long)]
        page: Option<String>,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Stop counting an alias for its link; its referrals show as untracked again.
    Remove {
        /// The alias (case-sensitive)
        #[arg(value_name = "ALIAS")]
        alias: String,
        /// The page [default: the only page]
        #[arg(long)]
        page: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
pub(super) struct LinkRef {
    /// The ref code (case-sensitive)
    #[arg(value_name = "REF")]
    ref_code: String,
    /// The page [default: the only page]
    #[arg(long)]
    page: Option<String>,
}

/// Style options shared by `qr` and `export`.
#[derive(Debug, clap::Args)]
pub(super) struct StyleArgs {
    /// Image width in pixels, 256 to 4096
    #[arg(long, value_name = "PX", default_value_t = 1024)]
    size: u32,
    /// Error correction: L, M, Q or H
    #[arg(long, value_name = "L|M|Q|H", default_value = "M")]
    ecc: String,
    /// Code colour, hex
    #[arg(long, value_name = "HEX", default_value = "#000000")]
    fg: String,
    /// Background colour, hex
    #[arg(long, value_name = "HEX", default_value = "#ffffff")]
    bg: String,
    /// Light border around the code, in modules
    #[arg(long, value_name = "MODULES", default_value_t = DEFAULT_QUIET_ZONE)]
    quiet_zone: u32,
    /// Draw the CTA text and the link under the code (the default)
    #[arg(long, overrides_with = "no_caption")]
    caption: bool,
    /// Code only, no caption
    #[arg(long)]
    no_caption: bool,
    /// A logo in the centre of the code on a light pad, FILE.png or FILE.svg (forces error correction H)
    #[arg(long, value_name = "FILE")]
    logo: Option<PathBuf>,
    /// Share of the code the logo's pad covers, in percent (at most 10 without --force)
    #[arg(long, value_name = "PERCENT", default_value_t = 10.0)]
    logo_share: f64,
}

impl StyleArgs {
    /// The style; `force` lets a contrast below the hard floor through as a warning.
    fn style(&self, force: bool) -> anyhow::Result<QrStyle> {
        let style = QrStyle {
            size_px: self.size,
            quiet_zone_modules: self.quiet_zone,
            ecc: self.ecc.parse::<Ecc>()?,
            fg: Color::parse("fg", &self.fg)?,
            bg: Color::parse("bg", &self.bg)?,
            caption: !self.no_caption,
            logo: None,
        };
        style.check_forced(force)?;
        let mut style = style;
        let share = self.logo_share / 100.0;
        crate::ops::export::load_logo(&mut style, self.logo.as_deref(), share, force)?;
        Ok(style)
    }
}

/// Page options of PDF output.
#[derive(Debug, clap::Args)]
pub(super) struct PaperArgs {
    /// Paper size of PDF output
    #[arg(long, value_enum, ignore_case = true, default_value_t = Paper::A4)]
    paper: Paper,
    /// Print the ref code in the small footer of PDF output (it is internal; hidden by default)
    #[arg(long)]
    show_ref: bool,
    /// Thin cut marks in the margins of PDF output
    #[arg(long)]
    cut_marks: bool,
}

#[derive(Debug, clap::Args)]
pub(super) struct QrArgs {
    /// The link's ref code
    #[arg(value_name = "REF")]
    ref_code: String,
    /// Output file, FILE.png, FILE.svg or FILE.pdf (a one-page flyer)
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Replace an existing file, and allow a contrast below the hard floor
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    style: StyleArgs,
    #[command(flatten)]
    paper: PaperArgs,
    /// The page [default: the only page]
    #[arg(long)]
    page: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(super) struct ExportArgs {
    /// Only this campaign [default: every link of the page]
    #[arg(long)]
    campaign: Option<String>,
    /// Output folder (created if missing)
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Image formats, comma-separated (png, svg, pdf)
    #[arg(long, value_delimiter = ',', default_value = "png")]
    format: Vec<String>,
    /// Also write printable sheets: svg (an A4 grid, the default) or pdf (see --layout)
    #[arg(long, value_name = "svg|pdf", num_args = 0..=1, default_missing_value = "svg")]
    sheet: Option<String>,
    /// Layout of the PDF sheet
    #[arg(long, value_enum, ignore_case = true, default_value_t = PrintLayout::Grid)]
    layout: PrintLayout,
    /// Codes a row in the grid layout
    #[arg(long, default_value_t = 3)]
    columns: u32,
    /// Sticker sheet of the labels layout
    #[arg(long, value_enum, ignore_case = true, default_value_t = LabelPreset::L7160)]
    label: LabelPreset,
    /// Printer offset of a label sheet: move everything this many mm right (negative: left)
    #[arg(
        long,
        value_name = "MM",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    offset_x_mm: f64,
    /// Printer offset of a label sheet: move everything this many mm down (negative: up)
    #[arg(
        long,
        value_name = "MM",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    offset_y_mm: f64,
    /// No title line (page and campaign) on grid and label sheets
    #[arg(long)]
    no_title: bool,
    /// Copies of each link on a PDF grid or label sheet (3 links × 7 fill an L7160 sheet)
    #[arg(long, value_name = "N", default_value_t = 1)]
    copies: u32,
    #[command(flatten)]
    paper: PaperArgs,
    /// Allow a contrast below the hard floor (the proof of scan still runs)
    #[arg(long)]
    force: bool,
    /// Skip decoding every written code (faster; links.csv then says verified=no)
    #[arg(long)]
    no_verify: bool,
    /// Include archived links
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    style: StyleArgs,
    /// The page [default: the only page]
    #[arg(long)]
    page: Option<String>,
}

fn print_link_table(rows: &[LinkRow], show_page: bool) -> anyhow::Result<()> {
    if rows.is_empty() {
        outln!(
            "No links yet. Create one: refboard link add --campaign \"Spring Sale\" --channel Newsletter"
        );
        return Ok(());
    }
    let mut header = vec!["ref", "campaign", "channel", "url", ""];
    if show_page {
        header.insert(0, "page");
    }
    let mut t = table(&header);
    for r in rows {
        let mut row = vec![
            cell(&r.link.ref_code),
            cell(&r.campaign_name),
            cell(&r.channel_name),
            cell(&r.url),
            archived_mark(r.link.archived).to_string(),
        ];
        if show_page {
            row.insert(0, cell(&r.page_name));
        }
        t.add_row(row);
    }
    outln!("{t}");
    Ok(())
}

fn print_link(row: &LinkRow) -> anyhow::Result<()> {
    let l = &row.link;
    let created = chrono::DateTime::from_timestamp(l.created_at, 0)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    outln!("ref       {}", full(&l.ref_code));
    outln!("url       {}", full(&row.url));
    outln!(
        "page      {} (m.me/{})",
        full(&row.page_name),
        full(&row.page_target)
    );
    outln!("campaign  {}", full(&row.campaign_name));
    outln!("channel   {}", full(&row.channel_name));
    if !l.cta.is_empty() {
        outln!("cta       {}", full(&l.cta));
    }
    if let Some(t) = &l.prefill_text {
        outln!("text      {}", full(t));
    }
    if !l.notes.is_empty() {
        outln!("notes     {}", full(&l.notes));
    }
    outln!("created   {created}");
    if l.archived {
        outln!("status    archived");
    }
    Ok(())
}

fn find_link(store: &Store, page: Option<&str>, ref_code: &str) -> anyhow::Result<LinkRow> {
    let page = store.resolve_page(page)?;
    Ok(store.link_by_ref(page.id, ref_code)?)
}

pub(super) fn link(db: &Db, cmd: LinkCmd) -> anyhow::Result<()> {
    match cmd {
        LinkCmd::Add {
            campaign,
            channel,
            ref_code,
            cta,
            text,
            notes,
            page,
        } => {
            let fields = Fields { cta, text, notes };
            link_add(db, page.as_deref(), &campaign, &channel, ref_code, &fields)
        }
        LinkCmd::List {
            campaign,
            channel,
            all,
            page,
            json,
        } => link_list(db, page, campaign, channel, all, json),
        LinkCmd::Show {
            ref_code,
            qr,
            page,
            json,
        } => link_show(db, page.as_deref(), &ref_code, qr, json),
        LinkCmd::Edit {
            ref_code,
            new_ref,
            campaign,
            channel,
            cta,
            text,
            no_text,
            notes,
            page,
        } => {
            let edit = Edit {
                new_ref,
                campaign,
                channel,
                no_text,
                fields: Fields { cta, text, notes },
            };
            link_edit(db, page.as_deref(), &ref_code, edit)
        }
        LinkCmd::Archive(r) => set_archived(db, &r, true),
        LinkCmd::Unarchive(r) => set_archived(db, &r, false),
        LinkCmd::Remove(r) => {
            let mut store = db.open()?;
            let row = find_link(&store, r.page.as_deref(), &r.ref_code)?;
            store.remove_link(row.link.id)?;
            outln!("Removed link {}", full(&row.link.ref_code));
            Ok(())
        }
        LinkCmd::Alias(cmd) => alias(db, cmd),
    }
}

/// The optional text fields of `link add` and `link edit`.
struct Fields {
    cta: Option<String>,
    text: Option<String>,
    notes: Option<String>,
}

/// What `link edit` changes besides the text fields.
struct Edit {
    new_ref: Option<String>,
    campaign: Option<String>,
    channel: Option<String>,
    no_text: bool,
    fields: Fields,
}

/// `link add`.
fn link_add(
    db: &Db,
    page: Option<&str>,
    campaign: &str,
    channel: &str,
    ref_code: Option<String>,
    f: &Fields,
) -> anyhow::Result<()> {
    let (cta, text, notes) = (f.cta.as_deref(), f.text.as_deref(), f.notes.as_deref());
    // Check what needs no database first, so bad input never opens (or creates) it.
    if let Some(r) = &ref_code {
        NewLink::parse(r, cta, text, notes)?;
    }
    let mut store = db.open()?;
    let page = store.resolve_page(page)?;
    let campaign = store.resolve_campaign(page.id, campaign)?;
    let channel = store.resolve_channel(page.id, channel)?;
    let ref_code = match ref_code {
        Some(r) => r,
        None => {
            let refs = store.refs(page.id)?;
            suggest_ref(
                &campaign.name,
                &channel.name,
                refs.iter().map(String::as_str),
            )
        }
    };
    let (new, mut warnings) = NewLink::parse(&ref_code, cta, text, notes)?;
    let target = LinkTarget::New { page: page.id };
    let saved = save_link(&mut store, target, campaign.id, channel.id, &new)?;
    warnings.extend(saved.warnings);
    warn(&warnings);
    outln!("Created link {}", full(&saved.row.link.ref_code));
    outln!("{}", full(&saved.row.url));
    Ok(())
}

/// `link list`.
fn link_list(
    db: &Db,
    page: Option<String>,
    campaign: Option<String>,
    channel: Option<String>,
    all: bool,
    json: bool,
) -> anyhow::Result<()> {
    let store = db.open()?;
    let pages = store.pages()?;
    let mut filter = LinkFilter {
        include_archived: all,
        ..LinkFilter::default()
    };
    // One page is implied when named, or when a campaign or channel needs one.
    if page.is_some() || campaign.is_some() || channel.is_some() || pages.len() == 1 {
        let p = store.resolve_page(page.as_deref())?;
        filter.page = Some(p.id);
        if let Some(c) = &campaign {
            filter.campaign = Some(store.resolve_campaign(p.id, c)?.id);
        }
        if let Some(c) = &channel {
            filter.channel = Some(store.resolve_channel(p.id, c)?.id);
        }
    }
    let rows = store.links(&filter)?;
    if json {
        return print_json(&rows);
    }
    print_link_table(&rows, filter.page.is_none() && pages.len() > 1)
}

/// `link show`.
fn link_show(
    db: &Db,
    page: Option<&str>,
    ref_code: &str,
    qr: bool,
    json: bool,
) -> anyhow::Result<()> {
    let store = db.open()?;
    let row = find_link(&store, page, ref_code)?;
    if json {
        return print_json(&row);
    }
    print_link(&row)?;
    if qr {
        let code = qrcode::QrCode::new(row.url.as_bytes())?;
        let art = code
            .render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .build();
        outln!("\n{art}");
    }
    Ok(())
}

/// `link edit`: what is not given stays as it was.
fn link_edit(db: &Db, page: Option<&str>, ref_code: &str, edit: Edit) -> anyhow::Result<()> {
    let mut store = db.open()?;
    let current = find_link(&store, page, ref_code)?;
    let page_id = current.link.page;
    let campaign_id = match &edit.campaign {
        Some(c) => store.resolve_campaign(page_id, c)?.id,
        None => current.link.campaign,
    };
    let channel_id = match &edit.channel {
        Some(c) => store.resolve_channel(page_id, c)?.id,
        None => current.link.channel,
    };
    let f = edit.fields;
    let text = if edit.no_text {
        None
    } else {
        f.text.or(current.link.prefill_text.clone())
    };
    let (new, mut warnings) = NewLink::parse(
        edit.new_ref.as_deref().unwrap_or(&current.link.ref_code),
        Some(f.cta.as_deref().unwrap_or(&current.link.cta)),
        text.as_deref(),
        Some(f.notes.as_deref().unwrap_or(&current.link.notes)),
    )?;
    let target = LinkTarget::Existing(current.link.id);
    let saved = save_link(&mut store, target, campaign_id, channel_id, &new)?;
    warnings.extend(saved.warnings);
    warn(&warnings);
    outln!("Updated link {}", full(&saved.row.link.ref_code));
    outln!("{}", full(&saved.row.url));
    Ok(())
}

/// `link archive` and `link unarchive`.
fn set_archived(db: &Db, r: &LinkRef, archived: bool) -> anyhow::Result<()> {
    let mut store = db.open()?;
    let row = find_link(&store, r.page.as_deref(), &r.ref_code)?;
    store.set_link_archived(row.link.id, archived)?;
    let done = if archived { "Archived" } else { "Restored" };
    outln!("{done} link {}", full(&row.link.ref_code));
    Ok(())
}

/// A link of `page` named by its ref, or else by its store id.
fn find_link_by_ref_or_id(store: &Store, page: i64, value: &str) -> anyhow::Result<LinkRow> {
    match store.link_by_ref(page, value) {
        Ok(row) => Ok(row),
        Err(not_found @ crate::store::StoreError::NotFound { .. }) => {
            let by_id = value
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(|id| store.link(id).ok())
                .filter(|row| row.link.page == page);
            by_id.ok_or_else(|| not_found.into())
        }
        Err(e) => Err(e.into()),
    }
}

fn alias(db: &Db, cmd: AliasCmd) -> anyhow::Result<()> {
    match cmd {
        AliasCmd::Add { alias, link, page } => {
            // The ref rules need no database: bad input never opens (or creates) it.
            crate::model::validate_alias(&alias, [], [])?;
            let mut store = db.open()?;
            let page = store.resolve_page(page.as_deref())?;
            let row = find_link_by_ref_or_id(&store, page.id, &link)?;
            let (added, warnings) = store.add_alias(row.link.id, &alias)?;
            warn(&warnings);
            outln!(
                "Referrals with ref {} now count for link {}",
                full(&added.alias.ref_code),
                full(&added.link_ref)
            );
        }
        AliasCmd::List { link, page, json } => {
            let store = db.open()?;
            let pages = store.pages()?;
            let (page_id, link_id) = if page.is_some() || link.is_some() || pages.len() == 1 {
                let p = store.resolve_page(page.as_deref())?;
                let l = match &link {
                    Some(l) => Some(find_link_by_ref_or_id(&store, p.id, l)?.link.id),
                    None => None,
                };
                (Some(p.id), l)
            } else {
                (None, None)
            };
            let rows = store.aliases(page_id, link_id)?;
            if json {
                return print_json(&rows);
            }
            if rows.is_empty() {
                outln!(
                    "No aliases. Count a mistyped ref for its link: refboard link alias add freeshiping --link freeshipping"
                );
                return Ok(());
            }
            let names: std::collections::HashMap<i64, String> =
                pages.into_iter().map(|p| (p.id, p.name)).collect();
            let mut t = table(&["alias", "counts for link", "page"]);
            for r in &rows {
                t.add_row(vec![
                    cell(&r.alias.ref_code),
                    cell(&r.link_ref),
                    cell(names.get(&r.alias.page).map_or("", String::as_str)),
                ]);
            }
            outln!("{t}");
        }
        AliasCmd::Remove { alias, page } => {
            let mut store = db.open()?;
            let page = store.resolve_page(page.as_deref())?;
            let removed = store.remove_alias(page.id, &alias)?;
            outln!(
                "Removed alias {} of link {}; its referrals show as untracked again",
                full(&removed.alias.ref_code),
                full(&removed.link_ref)
            );
        }
    }
    Ok(())
}

pub(super) fn qr(db: &Db, args: QrArgs) -> anyhow::Result<()> {
    let style = args.style.style(args.force)?;
    Format::from_path(&args.output)?;
    let store = db.open()?;
    let row = find_link(&store, args.page.as_deref(), &args.ref_code)?;
    let url = row.url.clone();
    let item = ExportItem::from(row);
    let options = OneOptions {
        replace: args.force,
        force_contrast: args.force,
        print: PrintOptions {
            layout: PrintLayout::Flyer,
            paper: args.paper.paper,
            cut_marks: args.paper.cut_marks,
            show_ref: args.paper.show_ref,
            ..PrintOptions::default()
        },
    };
    let warnings = crate::ops::export::one_code(&args.output, &item, &style, &options)?;
    warn(&warnings);
    outln!(
        "Wrote {} for {} (scan verified)",
        full(&args.output.display().to_string()),
        full(&url)
    );
    Ok(())
}

pub(super) fn export(db: &Db, args: ExportArgs) -> anyhow::Result<()> {
    let style = args.style.style(args.force)?;
    let formats = formats(&args.format)?;
    let (svg_sheet, pdf_sheet) = sheet_choice(args.sheet.as_deref())?;
    let print = PrintOptions {
        layout: args.layout,
        paper: args.paper.paper,
        columns: args.columns,
        label: args.label,
        cut_marks: args.paper.cut_marks,
        title: !args.no_title,
        show_ref: args.paper.show_ref,
        offset_x_mm: args.offset_x_mm,
        offset_y_mm: args.offset_y_mm,
        copies: args.copies,
    };
    if !pdf_sheet {
        // Without a PDF sheet an offset would move nothing.
        crate::print::refuse_offsets(
            &print,
            "a printer offset moves PDF label sheets only; add --sheet pdf --layout labels",
        )?;
    }
    let store = db.open()?;
    let page = store.resolve_page(args.page.as_deref())?;
    let campaign = match &args.campaign {
        Some(c) => Some(store.resolve_campaign(page.id, c)?.id),
        None => None,
    };
    let selection = crate::ops::export::Selection {
        page: page.id,
        campaign,
        include_archived: args.all,
    };
    let items = crate::ops::export::items(&store, &selection)?;
    drop(store);
    let options = BulkOptions {
        formats,
        style,
        sheet: svg_sheet,
        pdf: pdf_sheet.then_some(print),
        force: args.force,
        verify: !args.no_verify,
    };
    let report = crate::ops::export::bulk(&args.dir, &items, &options, &mut |_, _| true)?;
    for w in &report.warnings {
        errln!("warning: {}", full(w));
    }
    let proof = if options.verify {
        ", every code scan-verified"
    } else {
        ", not verified (--no-verify)"
    };
    outln!(
        "Exported {} link(s), {} file(s) to {}{proof}",
        report.links,
        report.files.len(),
        full(&args.dir.display().to_string())
    );
    Ok(())
}

/// The `--format` list parsed, blanks skipped, each format once.
fn formats(given: &[String]) -> anyhow::Result<Vec<Format>> {
    let formats: Vec<Format> = given
        .iter()
        .filter(|f| !f.trim().is_empty())
        .map(|f| f.parse())
        .collect::<Result<_, _>>()?;
    let mut unique = Vec::new();
    for f in formats {
        if !unique.contains(&f) {
            unique.push(f);
        }
    }
    Ok(unique)
}

/// `--sheet` as (an SVG sheet, a PDF sheet).
fn sheet_choice(sheet: Option<&str>) -> anyhow::Result<(bool, bool)> {
    match sheet.map(str::trim) {
        None => Ok((false, false)),
        Some(s) if s.eq_ignore_ascii_case("svg") => Ok((true, false)),
        Some(s) if s.eq_ignore_ascii_case("pdf") => Ok((false, true)),
        Some(s) => Err(crate::model::ValidationError::new("sheet", s, "use svg or pdf").into()),
    }
}
