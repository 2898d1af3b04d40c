//! The setup checklist of the Links screen: page → campaign → channel →
//! link → first export → backend → Meta's settings (the setup doctor) →
//! first referral. Each step's state comes
//! from the snapshot, so the checklist is right after a restart and leaves
//! once every step is done. Each open step opens the place where it is done;
//! the next one is the screen's primary button.

use super::widgets;
use super::{Action, CatalogItem, Shared, Tab};
use crate::model::LinkId;

/// One step: what to do, whether it is done, and where it is done.
struct Step {
    text: &'static str,
    done: bool,
    action: Action,
    hint: &'static str,
}

/// The steps in order, read from the snapshot.
fn steps(shared: &Shared<'_>) -> [Step; 8] {
    let snap = shared.snap;
    let first_link = snap.links.iter().find(|l| !l.link.archived);
    let connected = !snap.backend_url.is_empty();
    [
        Step {
            text: "Add your page",
            done: !snap.pages.is_empty(),
            action: Action::OpenPageForm { edit: false },
            hint: "The Facebook Page your links open in Messenger",
        },
        Step {
            text: "Add a campaign",
            done: !snap.campaigns.is_empty(),
            action: Action::FocusNew(CatalogItem::Campaign),
            hint: "A campaign groups links: a sale, a season, an event",
        },
        Step {
            text: "Add a channel",
            done: !snap.channels.is_empty(),
            action: Action::FocusNew(CatalogItem::Channel),
            hint: "Where a link is shown: a flyer, a newsletter, an ad",
        },
        Step {
            text: "Create your first link",
            done: !snap.links.is_empty(),
            action: Action::OpenNewLink(None),
            hint: "An m.me link with a ref code; the form can add a campaign and a channel too",
        },
        Step {
            text: "Export its QR code",
            done: snap.exported,
            // Without a link yet, the form that makes one comes first.
            action: match first_link {
                Some(l) => Action::Select(Some(LinkId(l.link.id))),
                None => Action::OpenNewLink(None),
            },
            hint: "Opens the link's panel: choose the file and press Export QR",
        },
        Step {
            text: "Connect the backend",
            done: connected,
            action: Action::ShowTab(Tab::Backend),
            hint: "The relay that receives Messenger's webhook events",
        },
        Step {
            text: "Check Meta's settings",
            done: snap.doctor_passed,
            action: Action::ShowTab(Tab::Setup),
            hint: "The setup doctor checks the page token, Get Started and the webhook fields, and fixes them",
        },
        Step {
            text: "Get your first referral",
            done: snap.events_total > 0,
            action: if connected {
                Action::SyncNow
            } else {
                Action::ShowTab(Tab::Backend)
            },
            hint: "Scan your code with Messenger, then sync to see it counted",
        },
    ]
}

/// Draws the checklist unless it is finished. Open steps are buttons; the
/// next one is the primary button.
pub fn ui(ui: &mut egui::Ui, shared: &Shared<'_>, actions: &mut Vec<Action>) {
    let steps = steps(shared);
    let done = steps.iter().filter(|s| s.done).count();
    if done == steps.len() {
        return;
    }
    let next = steps.iter().position(|s| !s.done);
    let title = format!("Get started: {done} of {} done", steps.len());
    egui::CollapsingHeader::new(title)
        .id_salt("setup_checklist")
        .default_open(true)
        .show(ui, |ui| {
            for (i, step) in steps.iter().enumerate() {
                ui.horizontal(|ui| row(ui, i, step, next == Some(i), actions));
            }
        });
    ui.separator();
}

/// One step: "Done: …" when done, else its button.
fn row(ui: &mut egui::Ui, i: usize, step: &Step, is_next: bool, actions: &mut Vec<Action>) {
    let number = format!("{}.", i + 1);
    ui.label(egui::RichText::new(number).weak());
    if step.done {
        let tick = egui_material_icons::icons::ICON_CHECK_CIRCLE.codepoint;
        let mark = if widgets::icons_ready(ui) { tick } else { "" };
        let r = ui.label(egui::RichText::new(format!("{mark} Done: {}", step.text)).weak());
        let name = format!("Done: {}", step.text);
        r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, name.clone()));
        return;
    }
    let button = if is_next {
        widgets::primary_button(ui, step.text)
    } else {
        egui::Button::new(step.text)
    };
    if ui.add(button).on_hover_text(step.hint).clicked() {
        actions.push(step.action.clone());
    }
}
