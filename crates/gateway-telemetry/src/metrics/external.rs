//! Counters and gauges other phases keep themselves (the limiter's and the cache's stats),
//! handed over at scrape time and exported under the gateway's names.

use std::borrow::Cow;
use std::sync::Mutex;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// One sample of a scrape-time metric. Samples sharing a `name` form one family.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Full metric name without the `_total` a counter gets, e.g. `gateway_limits_rejected`.
    pub name: &'static str,
    pub help: &'static str,
    pub counter: bool,
    /// Low-cardinality labels (fixed, or names from the configuration).
    pub labels: Vec<(&'static str, Cow<'static, str>)>,
    pub value: f64,
}

impl Sample {
    pub fn counter(name: &'static str, help: &'static str, value: u64) -> Sample {
        Sample {
            name,
            help,
            counter: true,
            labels: Vec::new(),
            value: value as f64,
        }
    }

    pub fn gauge(name: &'static str, help: &'static str, value: f64) -> Sample {
        Sample {
            name,
            help,
            counter: false,
            labels: Vec::new(),
            value,
        }
    }

    pub fn with_label(mut self, key: &'static str, value: &'static str) -> Sample {
        self.labels.push((key, Cow::Borrowed(value)));
        self
    }

    /// A label whose value is a name from the configuration (a rule, a model group).
    pub fn with_owned_label(mut self, key: &'static str, value: String) -> Sample {
        self.labels.push((key, Cow::Owned(value)));
        self
    }
}

#[derive(Debug, Default)]
pub(crate) struct ExternalCollector {
    pub(crate) latest: Mutex<Vec<Sample>>,
}

impl Collector for ExternalCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let samples = match self.latest.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let mut names: Vec<&'static str> = Vec::new();
        for s in &samples {
            if !names.contains(&s.name) {
                names.push(s.name);
            }
        }
        for name in names {
            let family: Vec<&Sample> = samples.iter().filter(|s| s.name == name).collect();
            let Some(&first) = family.first() else {
                continue;
            };
            let kind = if first.counter {
                MetricType::Counter
            } else {
                MetricType::Gauge
            };
            let mut encoder = encoder.encode_descriptor(name, first.help, None, kind)?;
            for s in family {
                let metric_encoder = encoder.encode_family(&s.labels)?;
                if first.counter {
                    ConstCounter::new(s.value).encode(metric_encoder)?;
                } else {
                    ConstGauge::new(s.value).encode(metric_encoder)?;
                }
            }
        }
        Ok(())
    }
}
