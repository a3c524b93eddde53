//! What the fuzz targets share: the schema model, the built-in pack and the Acme example
//! loaded once per process, a per-process scratch directory the loaders (which take
//! paths) read the fuzz input from, and the inventory check both `load` and `check` run.
//!
//! The property every target checks is the same: whatever the bytes, the readers and what
//! runs after them return (an `Err` with coded diagnostics is fine); they never panic,
//! abort or hang.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use dualtrack_engine::eval;
use dualtrack_engine::{campaign, inventory, open, policy, render, Model, Options, Pack, Report, Track};

/// Splits the input into three files (systems, identities, entitlements) on this byte.
pub const SEPARATOR: u8 = 0x1e;

/// Loaded once per process.
pub struct Ctx {
    /// The schema model.
    pub model: Model,
    /// The built-in pack.
    pub pack: Pack,
    /// Review date 2026-10-01, both tracks.
    pub opts: Options,
    /// `examples/acme`.
    pub acme: inventory::Inventory,
    /// The built-in pack's findings on `examples/acme`.
    pub acme_report: Report,
    /// `tests/fixtures/campaign/acme.yaml`.
    pub acme_campaign: campaign::Campaign,
    scratch: tempfile::TempDir,
}

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The shared context, loaded on first use.
#[allow(clippy::expect_used, reason = "a broken fixture is a broken fuzz set-up")]
pub fn ctx() -> &'static Ctx {
    static CTX: OnceLock<Ctx> = OnceLock::new();
    CTX.get_or_init(|| {
        // One evaluation thread: a fuzzer keeps to one core (and the streamed check's
        // answers must not depend on the number of threads anyway).
        if std::env::var_os("RAYON_NUM_THREADS").is_none() {
            std::env::set_var("RAYON_NUM_THREADS", "1");
        }
        let model = Model::load().expect("schema model");
        let pack = policy::load(policy::builtin_files(), &model).expect("built-in pack");
        let opts = Options {
            as_of: Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).single().expect("date"),
            tracks: Track::ALL.to_vec(),
        };
        let (acme, _) = open::load(&root().join("examples/acme")).expect("examples/acme loads");
        let acme_report = eval::evaluate(&acme, &pack, &model, &opts).expect("examples/acme evaluates");
        let acme_campaign =
            campaign::load(&root().join("tests/fixtures/campaign/acme.yaml")).expect("the Acme campaign loads");
        let scratch = tempfile::Builder::new()
            .prefix("dualtrack-fuzz-")
            .tempdir()
            .expect("a scratch directory");
        Ctx {
            model,
            pack,
            opts,
            acme,
            acme_report,
            acme_campaign,
            scratch,
        }
    })
}

/// A directory `name` inside the scratch directory (created on first use, then reused).
#[allow(clippy::expect_used, reason = "no scratch space is a broken fuzz set-up")]
pub fn dir(name: &str) -> PathBuf {
    let d = ctx().scratch.path().join(name);
    if !d.is_dir() {
        std::fs::create_dir_all(&d).expect("scratch directory");
    }
    d
}

/// Writes `bytes` to `dir/name`, replacing what a previous run left there.
#[allow(clippy::expect_used, reason = "no scratch space is a broken fuzz set-up")]
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the fuzz input");
    path
}

/// The input cut in three at the first two [`SEPARATOR`] bytes, when it has two.
pub fn split3(data: &[u8]) -> Option<[&[u8]; 3]> {
    let mut parts = data.splitn(3, |b| *b == SEPARATOR);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), Some(c)) => Some([a, b, c]),
        _ => None,
    }
}

/// An inventory as the `.yaml`/`.json` input file `single`, or — when the input holds two
/// [`SEPARATOR`] bytes — a directory of `systems.EXT`, `identities.EXT`, `entitlements.EXT`.
pub fn inventory_path(data: &[u8], ext: &str) -> PathBuf {
    match split3(data) {
        Some(parts) => {
            let d = dir(&format!("inventory-dir-{ext}"));
            for (section, bytes) in ["systems", "identities", "entitlements"].iter().zip(parts) {
                write(&d, &format!("{section}.{ext}"), bytes);
            }
            d
        }
        None => write(&dir("inventory-file"), &format!("inventory.{ext}"), data),
    }
}

/// What `lint`/`evidence` (load, then held evaluation and rendering) and `check` (index,
/// then streamed evaluation) do with an inventory at `path`. When both ways evaluate, they
/// must give the same findings JSON: the streamed check promises the held report's bytes.
pub fn check_inventory(path: &Path) {
    let c = ctx();
    let held = open::load(path).ok().and_then(|(inv, _)| {
        if eval::crosscheck(&inv, &c.pack).has_errors() {
            return None;
        }
        let report = eval::evaluate(&inv, &c.pack, &c.model, &c.opts).ok()?;
        let _ = render::human(
            &report,
            render::HumanStyle {
                color: false,
                width: 80,
            },
        );
        let _ = render::write_sarif(&report, &c.pack, &mut std::io::sink());
        let _ = render::write_csv(&report, &mut std::io::sink());
        Some(render::json(&report))
    });
    let streamed = open::index(path)
        .ok()
        .and_then(|idx| render::json_report(&idx, &c.pack, &c.model, &c.opts).ok());
    if let (Some(held), Some(streamed)) = (held, streamed) {
        assert!(
            held == streamed,
            "the streamed check and the held report differ\n--- held\n{held}\n--- streamed\n{streamed}"
        );
    }
}

/// A sources file with one source of `kind` whose export, `export.EXT`, is the input (and
/// `extra` lines of the source's options): imported, correlated and validated as `check`
/// opens it, then evaluated once when it loads. Rendering, and the streamed run's equality
/// with the held one, are the inventory targets' subject: leaving them out here lets the
/// importers, which are what these targets are about, run several times as often.
pub fn check_source(kind: &str, ext: &str, extra: &str, data: &[u8]) {
    let d = dir(&format!("source-{kind}-{ext}"));
    write(&d, &format!("export.{ext}"), data);
    let sources = format!("sources:\n  - type: {kind}\n    path: export.{ext}\n{extra}");
    let path = write(&d, "sources.yaml", sources.as_bytes());
    let c = ctx();
    if let Ok((inv, _)) = open::load(&path) {
        if !eval::crosscheck(&inv, &c.pack).has_errors() {
            let _ = eval::evaluate(&inv, &c.pack, &c.model, &c.opts);
        }
    }
}

/// The SAP tables of a `sap` source, cut from the input at [`SEPARATOR`] bytes in the
/// order `USR02`, `AGR_USERS`, `AGR_1251`, `AGR_AGRS` (a missing part leaves its table
/// out), written as CSV (or as SE16N tab-separated text, after a first byte that is a tab)
/// in a directory a sources file names: imported as `check` opens it, evaluated once,
/// and the test ruleset of `tests/fixtures/sources/sap` evaluated over it.
pub fn check_sap(data: &[u8]) {
    static RULESETS: OnceLock<Vec<policy::ruleset::Ruleset>> = OnceLock::new();
    let rulesets = RULESETS.get_or_init(|| {
        let mut files = policy::builtin_files();
        files.push(dualtrack_engine::source::Source::new(
            "sap.ruleset.yaml",
            include_str!("../../tests/fixtures/sources/sap/sap.ruleset.yaml"),
        ));
        policy::load(files, &ctx().model).map(|p| p.rulesets).unwrap_or_default()
    });
    let d = dir("source-sap");
    let tables = d.join("tables");
    let _ = std::fs::remove_dir_all(&tables);
    let _ = std::fs::create_dir_all(&tables);
    let (ext, data) = match data.split_first() {
        Some((b'\t', text)) => ("txt", text),
        _ => ("csv", data),
    };
    for (name, part) in ["USR02", "AGR_USERS", "AGR_1251", "AGR_AGRS"]
        .iter()
        .zip(data.splitn(4, |b| *b == SEPARATOR))
    {
        write(&tables, &format!("{name}.{ext}"), part);
    }
    let sources = "sources:\n  - type: sap\n    path: tables\n    system: {id: erp, name: ERP}\n    sox_in_scope: true\n";
    let path = write(&d, "sources.yaml", sources.as_bytes());
    let c = ctx();
    if let Ok((inv, _)) = open::load_as_of(&path, Some(c.opts.as_of)) {
        let _ = eval::ruleset::evaluate(&inv, rulesets);
        if !eval::crosscheck(&inv, &c.pack).has_errors() {
            let _ = eval::evaluate(&inv, &c.pack, &c.model, &c.opts);
        }
    }
}

/// A pack directory holding the built-in control and function catalogs and `name` with the
/// input; returns the directory.
pub fn pack_with(name: &str, data: &[u8]) -> PathBuf {
    let d = dir("pack");
    if !d.join("controls.yaml").is_file() {
        write(&d, "controls.yaml", include_bytes!("../../policies/controls.yaml"));
        write(&d, "functions.yaml", include_bytes!("../../policies/functions.yaml"));
    }
    write(&d, name, data);
    d
}

/// What `lint`, `compile` and `explain` do with a pack directory.
pub fn check_pack(d: &Path) {
    let c = ctx();
    if let Ok(files) = policy::dir_files(d) {
        let (pack, _) = policy::load_lenient(files, &c.model);
        if let Some(pack) = pack {
            for rule in &pack.rules {
                let _ = policy::text::cedar(rule);
                let _ = policy::text::explain(rule, &pack.controls);
            }
        }
    }
    let _ = dualtrack_engine::lint::run(&dualtrack_engine::lint::Inputs {
        policies: Some(d.to_path_buf()),
        ..Default::default()
    });
}
