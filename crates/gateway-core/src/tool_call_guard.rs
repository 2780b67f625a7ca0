//! Output guardrails over the arguments of streamed tool calls: each call's argument deltas
//! pass through stream guards of their own (the same [`StreamGuard`]s as a choice's text,
//! so a secret split across deltas is caught before any of it is released), and what a
//! call's guards hold back is released when a later call of the same choice starts, when the
//! choice finishes, or when the stream ends.

use crate::phases::guard::{FindingTally, GuardOutcome, StreamGuard};
use crate::types::{FunctionCallDelta, ToolCallDelta};

/// Makes the guards of one guarded text (empty when no guardrail scans output).
pub(crate) type MakeGuards = dyn Fn() -> Vec<Box<dyn StreamGuard>> + Send;

/// The guards of one tool call that is still being streamed.
struct OpenCall {
    choice: u32,
    call: u32,
    guards: Vec<Box<dyn StreamGuard>>,
}

/// The guards of the tool calls of one stream.
#[derive(Default)]
pub(crate) struct ToolCallGuards {
    open: Vec<OpenCall>,
    /// Findings of the calls whose guards are gone (released).
    released: FindingTally,
}

impl ToolCallGuards {
    /// Guards one choice's tool-call deltas in place: arguments are replaced by what their
    /// guards release, and deltas releasing what earlier calls held back are inserted before
    /// a new call's first delta (and appended when `finishing`). `Err` means the stream must
    /// stop.
    pub(crate) fn guard(
        &mut self,
        choice: u32,
        calls: &mut Option<Vec<ToolCallDelta>>,
        finishing: bool,
        make: &MakeGuards,
    ) -> Result<(), GuardOutcome> {
        let Some(deltas) = calls.take() else {
            if finishing {
                let released = self.release(choice)?;
                *calls = (!released.is_empty()).then_some(released);
            }
            return Ok(());
        };
        let mut out = Vec::with_capacity(deltas.len());
        for mut delta in deltas {
            let open = self
                .open
                .iter()
                .position(|c| c.choice == choice && c.call == delta.index);
            let pos = match open {
                Some(pos) => pos,
                None => {
                    // A new call: the earlier ones of this choice are complete.
                    out.extend(self.release(choice)?);
                    let guards = make();
                    if guards.is_empty() {
                        // No guardrail scans output: pass everything through untouched.
                        out.push(delta);
                        continue;
                    }
                    self.open.push(OpenCall {
                        choice,
                        call: delta.index,
                        guards,
                    });
                    self.open.len() - 1
                }
            };
            let arguments = delta.function.as_mut().and_then(|f| f.arguments.as_mut());
            if let (Some(arguments), Some(call)) = (arguments, self.open.get_mut(pos)) {
                let mut current = std::mem::take(arguments);
                for guard in &mut call.guards {
                    current = guard.push(&current)?;
                }
                *arguments = current;
            }
            out.push(delta);
        }
        if finishing {
            out.extend(self.release(choice)?);
        }
        *calls = Some(out);
        Ok(())
    }

    /// Finishes the open calls of `choice` and returns deltas with what their guards still
    /// held back, in call order.
    pub(crate) fn release(&mut self, choice: u32) -> Result<Vec<ToolCallDelta>, GuardOutcome> {
        let mut released = Vec::new();
        while let Some(pos) = self.open.iter().position(|c| c.choice == choice) {
            let mut call = self.open.remove(pos);
            let mut current = String::new();
            for guard in &mut call.guards {
                let mut out = guard.push(&current)?;
                out.push_str(&guard.finish()?);
                current = out;
            }
            for guard in &call.guards {
                self.released.merge(guard.findings());
            }
            if !current.is_empty() {
                released.push(arguments_delta(call.call, current));
            }
        }
        Ok(released)
    }

    /// What the guards of every call found so far (released and still open).
    pub(crate) fn findings(&self) -> FindingTally {
        let mut found = self.released;
        for call in &self.open {
            for guard in &call.guards {
                found.merge(guard.findings());
            }
        }
        found
    }

    /// The choices with calls still open (the stream ended without finishing them).
    pub(crate) fn open_choices(&self) -> Vec<u32> {
        let mut choices: Vec<u32> = self.open.iter().map(|c| c.choice).collect();
        choices.sort_unstable();
        choices.dedup();
        choices
    }
}

/// A delta carrying released arguments of call `call`.
fn arguments_delta(call: u32, arguments: String) -> ToolCallDelta {
    ToolCallDelta {
        index: call,
        id: None,
        kind: None,
        function: Some(FunctionCallDelta {
            name: None,
            arguments: Some(arguments),
        }),
    }
}
