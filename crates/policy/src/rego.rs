//! Rego policies with cosign's contract (`pkg/cosign/rego/rego.go`): `package sigstore`, Rego
//! v0 syntax, query `isCompliant = data.sigstore.isCompliant`, a `true` result or a set/array of
//! `{result, error, warning}` objects.

use std::num::NonZeroU32;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use regorus::{Engine, Value};
use serde::Serialize;

/// The query as cosign spells it in its messages.
pub(crate) const QUERY: &str = "isCompliant = data.sigstore.isCompliant";

/// Execution limits for one Rego evaluation.
///
/// Defaults: 1 s of evaluation time and 1,000,000 elements per `numbers.range` /
/// `numbers.range_step` call. A policy that hits either fails closed with an error naming the
/// limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RegoLimits {
    /// Wall-clock budget of one evaluation, checked cooperatively by regorus's interpreter
    /// loop (`ExecutionTimerConfig`).
    pub time: Duration,
    /// Most elements one `numbers.range`/`numbers.range_step` call may produce; regorus's own
    /// builtin would reserve the whole array up front, which aborts the process for huge
    /// ranges, so waxseal replaces both builtins with bounded ones.
    pub max_range: u64,
}

impl RegoLimits {
    /// The default limits: 1 s, 1,000,000 range elements.
    pub const DEFAULT: Self = Self {
        time: Duration::from_secs(1),
        max_range: 1_000_000,
    };

    /// These limits with another time budget.
    #[must_use]
    pub fn with_time(mut self, time: Duration) -> Self {
        self.time = time;
        self
    }

    /// These limits with another range cap.
    #[must_use]
    pub fn with_max_range(mut self, max_range: u64) -> Self {
        self.max_range = max_range;
        self
    }
}

impl Default for RegoLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A Rego module, parsed and checked at load.
#[derive(Debug, Clone)]
pub(crate) struct RegoPolicy {
    engine: Engine,
}

/// A passing evaluation, with any warnings the policy returned.
#[derive(Debug, Clone, Default)]
pub(crate) struct Compliant {
    pub(crate) warnings: Vec<String>,
}

/// A failing evaluation: cosign's wording, plus any warnings the policy returned.
#[derive(Debug, Clone)]
pub(crate) struct NotCompliant {
    pub(crate) error: String,
    pub(crate) warnings: Vec<String>,
}

impl RegoPolicy {
    /// Parses `module` as Rego v0 and checks that it declares `package sigstore`.
    pub(crate) fn compile(module: &str) -> Result<Self, crate::LoadErrorKind> {
        let mut engine = Engine::new();
        engine.set_rego_v0(true);
        let package = engine
            .add_policy("sigstore.rego".to_owned(), module.to_owned())
            .map_err(|e| crate::LoadErrorKind::RegoInvalid {
                reason: format!("{e:#}"),
            })?;
        if package != "data.sigstore" {
            return Err(crate::LoadErrorKind::RegoPackage { package });
        }
        // Resolve rules and references now, so a module that parses but does not compile is
        // refused at load rather than at the first evaluation.
        engine
            .compile_with_entrypoint(&"data.sigstore.isCompliant".into())
            .map_err(|e| crate::LoadErrorKind::RegoInvalid {
                reason: format!("{e:#}"),
            })?;
        Ok(Self { engine })
    }

    /// Evaluates the policy over `input`, with `time.now_ns()` and `data.waxseal.now_ns`
    /// returning `now`.
    pub(crate) fn evaluate(
        &self,
        input: &serde_json::Value,
        now: SystemTime,
        limits: &RegoLimits,
    ) -> Result<Compliant, NotCompliant> {
        let input = to_input(input).map_err(|error| NotCompliant {
            error,
            warnings: Vec::new(),
        })?;
        self.evaluate_input(&input, now, limits)
    }

    /// [`RegoPolicy::evaluate`] over an input already converted with [`to_input`] (a statement
    /// several policies read is converted once).
    pub(crate) fn evaluate_input(
        &self,
        input: &Value,
        now: SystemTime,
        limits: &RegoLimits,
    ) -> Result<Compliant, NotCompliant> {
        self.run(input, now, limits).map_err(|error| NotCompliant {
            error,
            warnings: Vec::new(),
        })?
    }

    fn run(
        &self,
        input: &Value,
        now: SystemTime,
        limits: &RegoLimits,
    ) -> Result<Result<Compliant, NotCompliant>, String> {
        let now_ns = now
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_nanos()).ok())
            .ok_or_else(|| {
                "evaluation time is outside the range time.now_ns can express".to_owned()
            })?;
        let mut engine = self.engine.clone();
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit: limits.time,
            check_interval: NonZeroU32::new(1024).unwrap_or(NonZeroU32::MIN),
        });
        engine
            .add_extension(
                "time.now_ns".to_owned(),
                0,
                Box::new(move |_: Vec<Value>| Ok(Value::from(now_ns))),
            )
            .map_err(|e| format!("{e:#}"))?;
        let max = limits.max_range;
        engine
            .add_extension(
                "numbers.range".to_owned(),
                2,
                Box::new(move |args: Vec<Value>| bounded_range(&args, max)),
            )
            .map_err(|e| format!("{e:#}"))?;
        engine
            .add_extension(
                "numbers.range_step".to_owned(),
                3,
                Box::new(move |args: Vec<Value>| bounded_range(&args, max)),
            )
            .map_err(|e| format!("{e:#}"))?;
        let data = serde_json::json!({ "waxseal": { "now_ns": now_ns } });
        let data = Value::from_json_str(&data.to_string()).map_err(|e| format!("{e:#}"))?;
        engine.add_data(data).map_err(|e| format!("{e:#}"))?;
        // Values share their trees: this clone is a reference count.
        engine.set_input(input.clone());

        let result = engine
            .eval_rule("data.sigstore.isCompliant".to_owned())
            .map_err(|e| describe_failure(&e, limits))?;
        Ok(interpret(&result))
    }
}

/// A JSON document as Rego input: straight from the JSON tree, without printing and re-parsing
/// it. This is most of the cost of evaluating a policy over a large statement (a `BTreeMap` and
/// an `Arc<str>` per node), so callers convert each statement once.
pub(crate) fn to_input(json: &serde_json::Value) -> Result<Value, String> {
    <Value as serde::Deserialize>::deserialize(json).map_err(|e| format!("{e:#}"))
}

/// cosign's reading of the result: `true` passes; a collection passes at its first
/// `result: true` member (its warning kept), else fails with the last member's error.
fn interpret(result: &Value) -> Result<Compliant, NotCompliant> {
    let members: Vec<&Value> = match result {
        Value::Bool(true) => return Ok(Compliant::default()),
        Value::Array(items) => items.iter().collect(),
        Value::Set(items) => items.iter().collect(),
        _ => {
            return Err(NotCompliant {
                error: format!("policy is not compliant for query '{QUERY}'"),
                warnings: Vec::new(),
            });
        }
    };
    let mut error = format!("policy is not compliant for query \"{QUERY}\"");
    let mut warnings = Vec::new();
    for member in members {
        let Value::Object(fields) = member else {
            return Err(NotCompliant {
                error: format!(
                    "policy is not compliant for query '{QUERY}' due to parsing errors: result member is not an object"
                ),
                warnings,
            });
        };
        let text = |key: &str| match fields.get(&Value::from(key)) {
            Some(Value::String(s)) => s.to_string(),
            _ => String::new(),
        };
        let passed = matches!(fields.get(&Value::from("result")), Some(Value::Bool(true)));
        let warning = text("warning");
        if passed {
            let warnings = if warning.is_empty() {
                Vec::new()
            } else {
                vec![warning]
            };
            return Ok(Compliant { warnings });
        }
        if !warning.is_empty() {
            warnings.push(warning);
        }
        error = format!(
            "policy is not compliant for query '{QUERY}' with errors: {}",
            text("error")
        );
    }
    Err(NotCompliant { error, warnings })
}

fn describe_failure(error: &anyhow::Error, limits: &RegoLimits) -> String {
    for cause in error.chain() {
        if let Some(limit) = cause.downcast_ref::<regorus::LimitError>() {
            return format!("rego evaluation stopped by a limit: {limit}");
        }
    }
    let text = format!("{error:#}");
    if text.contains("execution exceeded time limit") || text.contains("time limit") {
        return format!(
            "rego evaluation stopped by a limit: time limit of {:?} exceeded",
            limits.time
        );
    }
    text
}

fn bounded_range(args: &[Value], max: u64) -> anyhow::Result<Value> {
    let int = |v: &Value| -> anyhow::Result<i64> {
        v.as_i64()
            .map_err(|_| anyhow::anyhow!("numbers.range operands must be integers"))
    };
    let (start, end, step) = match args {
        [a, b] => (int(a)?, int(b)?, 1),
        [a, b, s] => (int(a)?, int(b)?, int(s)?),
        _ => anyhow::bail!("numbers.range: wrong number of operands"),
    };
    if step <= 0 {
        anyhow::bail!("numbers.range_step: step must be a positive integer");
    }
    let span = (i128::from(end) - i128::from(start)).unsigned_abs();
    let count = span / u128::from(step.unsigned_abs()) + 1;
    if count > u128::from(max) {
        anyhow::bail!(
            "rego evaluation stopped by a limit: numbers.range of {count} elements exceeds the limit of {max}"
        );
    }
    let direction: i64 = if end >= start { 1 } else { -1 };
    let mut values = Vec::new();
    let mut v = start;
    for _ in 0..count {
        values.push(Value::from(v));
        v = v.saturating_add(direction * step);
    }
    Ok(Value::from(values))
}
