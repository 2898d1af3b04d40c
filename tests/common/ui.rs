//! The real dashboard `App` under egui_kittest (headless, no GPU): one
//! harness builder and the condition waits every UI test file shares.

use egui_kittest::Harness;
use refboard::ui::{App, UiState};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a wait may take before it fails: the worker answers
/// asynchronously, and CI's 2 cores may be busy with other test binaries.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// The real App on the database `db`, in a `width`×`height` window.
pub fn harness_sized(db: &Path, state: UiState, width: f32, height: f32) -> Harness<'static, App> {
    let db = db.to_path_buf();
    Harness::builder()
        .with_size(egui::vec2(width, height))
        .build_eframe(move |cc| App::new(&cc.egui_ctx, db, state))
}

/// The real App on `db` in a 1400×1000 window (room for every panel).
pub fn harness(db: &Path, state: UiState) -> Harness<'static, App> {
    harness_sized(db, state, 1400.0, 1000.0)
}

/// A few frames; spinners keep egui repainting, so `run` would never settle.
pub fn settle(h: &mut Harness<'static, App>) {
    h.run_steps(3);
}

/// Runs frames until `done` holds, failing with `what` and the status line
/// after [`WAIT_LIMIT`]. The short pause between polls gives the worker
/// thread the CPU; the condition, not the pause, ends the wait.
pub fn wait_for(
    h: &mut Harness<'static, App>,
    what: &str,
    done: impl Fn(&Harness<'static, App>) -> bool,
) {
    let start = Instant::now();
    loop {
        settle(h);
        if done(h) {
            return;
        }
        assert!(
            start.elapsed() < WAIT_LIMIT,
            "timed out waiting for {what}; status: {:?}",
            h.state().message
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs frames until the node labelled `label` is drawn where it was the
/// frame before. A window re-centres one frame after its size changes (a
/// preview arriving, a row appearing), and a click aimed at the old place
/// would miss.
pub fn wait_still(h: &mut Harness<'static, App>, label: &str) {
    use egui_kittest::kittest::Queryable as _;
    let last = std::cell::Cell::new(h.get_by_label(label).rect());
    wait_for(h, &format!("{label} to stop moving"), |h| {
        let now = h.get_by_label(label).rect();
        now == last.replace(now)
    });
}

/// [`wait_for`] on the App's state.
pub fn run_until(h: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    wait_for(h, what, |h| done(h.state()));
}

/// Replaces a field's text (select all, then type).
pub fn replace_in(h: &mut Harness<'static, App>, label: &str, text: &str) {
    use egui_kittest::kittest::Queryable as _;
    h.get_by_label(label).focus();
    settle(h);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    settle(h);
    h.get_by_label(label).type_text(text);
    settle(h);
}
