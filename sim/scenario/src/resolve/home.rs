//! Resolving `[home]`: placements, and the home-node model built through
//! `cdnsim_net::home`'s own constructors, so the ranges a parameter must
//! respect are written once, there; here they only gain a position in the
//! file.

use std::collections::BTreeMap;

use cdnsim_engine::SimDuration;
use cdnsim_net::ParamError;
use cdnsim_net::home::{CapacityDist, DiurnalProfile, HomeModel, HouseholdModel, NatMix, OnOffDist, SessionDist, TraversalMatrix};
use crate::spanned::Spanned;

use crate::error::ScenarioError;
use crate::model::{Home, MAX_HOME_NODES};
use crate::raw::{RawHome, RawSession, RawUpload, SESSION_NAMES, UPLOAD_NAMES};
use crate::ctx::Ctx;

pub(crate) fn resolve(
    ctx: &Ctx,
    h: &RawHome,
    home_span: std::ops::Range<usize>,
    regions: &BTreeMap<&str, usize>,
) -> Result<Home, ScenarioError> {
    if h.regions.is_empty() {
        return Err(ctx.err(home_span, "home.regions", "expected at least one [[home.regions]] entry, found none"));
    }
    let mut placements = Vec::with_capacity(h.regions.len());
    let mut total = 0u64;
    for (i, r) in h.regions.iter().enumerate() {
        let region = ctx.lookup(regions, "a region", &r.region, format!("home.regions[{i}].region"))?;
        let count = *r.count.get_ref();
        total += count.max(0) as u64;
        if count < 0 || total > MAX_HOME_NODES {
            return Err(ctx.err(
                r.count.span(),
                format!("home.regions[{i}].count"),
                format!("expected a count from 0 with at most {MAX_HOME_NODES} home nodes in all, found {count}"),
            ));
        }
        placements.push((region, r.isp.clone(), count as u32));
    }

    // A parameter error from the net crate, placed at the table it came from.
    let at = |span: std::ops::Range<usize>, field: &str| {
        let field = field.to_string();
        move |e: ParamError| ctx.err(span.clone(), field.clone(), format!("{}: expected {}, found {}", e.param, e.expected, e.found))
    };

    let defaults = HomeModel::default();
    let nat_mix = match &h.nat_mix {
        None => *defaults.nat_mix(),
        Some(v) => {
            let p: [f64; 4] = v.get_ref().as_slice().try_into().map_err(|_| {
                ctx.err(v.span(), "home.nat_mix", format!("expected 4 shares (NAT1..NAT4), found {}", v.get_ref().len()))
            })?;
            NatMix::new(p).map_err(at(v.span(), "home.nat_mix"))?
        }
    };
    let traversal = match &h.traversal {
        None => *defaults.traversal(),
        Some(v) => {
            let rows = v.get_ref();
            let bad = || ctx.err(v.span(), "home.traversal", "expected a 4 x 4 table of probabilities (rows and columns NAT1..NAT4)");
            if rows.len() != 4 || rows.iter().any(|r| r.len() != 4) {
                return Err(bad());
            }
            let mut m = [[0.0; 4]; 4];
            for (a, row) in rows.iter().enumerate() {
                m[a].copy_from_slice(row);
            }
            TraversalMatrix::new(m).map_err(at(v.span(), "home.traversal"))?
        }
    };
    let upload = match &h.upload {
        None => defaults.upload().clone(),
        Some(u) => upload(ctx, u)?,
    };
    let session = |s: &Option<Spanned<RawSession>>, field: &str, default: SessionDist| match s {
        None => Ok(default),
        Some(s) => session(ctx, s, field),
    };
    let churn = OnOffDist::new(
        session(&h.on_session, "home.on_session", *defaults.churn().on())?,
        session(&h.off_session, "home.off_session", *defaults.churn().off())?,
    );
    let start = h.start_time_of_day.as_ref().map_or(SimDuration::ZERO, |d| SimDuration::from_ns(d.get_ref().0));
    let diurnal = match &h.diurnal {
        None => defaults.diurnal().starting_at(start),
        Some(v) => {
            let hourly: [f64; 24] = v.get_ref().as_slice().try_into().map_err(|_| {
                ctx.err(v.span(), "home.diurnal", format!("expected 24 hourly fractions (00 h to 23 h), found {}", v.get_ref().len()))
            })?;
            DiurnalProfile::new(hourly, start)
        }
    }
    .map_err(|e| {
        let span = h.start_time_of_day.as_ref().map(|d| d.span()).or(h.diurnal.as_ref().map(|d| d.span()));
        at(span.unwrap_or(0..0), "home.diurnal")(e)
    })?;
    let household = match &h.household {
        None => *defaults.household(),
        Some(v) => {
            let x = v.get_ref();
            HouseholdModel::new(x.low, x.high, SimDuration::from_ns(x.interval.0), SimDuration::from_ns(x.mean_hold.0))
                .map_err(at(v.span(), "home.household"))?
        }
    };
    let span = h.household.as_ref().map(|v| v.span()).or(h.diurnal.as_ref().map(|v| v.span())).unwrap_or(0..0);
    let model = HomeModel::new(nat_mix, traversal, upload, churn, diurnal, household).map_err(at(span, "home"))?;
    Ok(Home { placements, model })
}

fn need<T: Copy>(ctx: &Ctx, v: Option<T>, span: std::ops::Range<usize>, field: &str, what: &str) -> Result<T, ScenarioError> {
    v.ok_or_else(|| ctx.err(span, field, format!("expected `{what}` for this distribution, found none")))
}

fn upload(ctx: &Ctx, u: &Spanned<RawUpload>) -> Result<CapacityDist, ScenarioError> {
    let (x, span, field) = (u.get_ref(), u.span(), "home.upload");
    let err = |e: ParamError| ctx.err(span.clone(), field, format!("{}: expected {}, found {}", e.param, e.expected, e.found));
    let bps = |v: Option<crate::units::RateBps>, what| need(ctx, v, span.clone(), field, what).map(|r| r.0 as f64);
    let name = crate::ctx::one_of(UPLOAD_NAMES, &x.distribution).map_err(|m| ctx.err(span.clone(), field, m))?;
    match name {
        "lognormal" => CapacityDist::log_normal(
            bps(x.median, "median")?,
            need(ctx, x.sigma, span.clone(), field, "sigma")?,
            bps(x.min, "min")?,
            bps(x.max, "max")?,
        )
        .map_err(err),
        "uniform" => CapacityDist::uniform(bps(x.min, "min")?, bps(x.max, "max")?).map_err(err),
        "empirical" => {
            let values = x.values.as_ref().ok_or_else(|| ctx.err(span.clone(), field, "expected `values`, found none"))?;
            let weights = x.weights.as_ref().ok_or_else(|| ctx.err(span.clone(), field, "expected `weights`, found none"))?;
            if values.len() != weights.len() {
                return Err(ctx.err(span.clone(), field, format!("expected as many weights as values, found {} and {}", weights.len(), values.len())));
            }
            let table: Vec<(f64, f64)> = values.iter().zip(weights).map(|(v, w)| (v.0 as f64, *w)).collect();
            CapacityDist::empirical(&table).map_err(err)
        }
        other => unreachable!("{other:?} is in UPLOAD_NAMES but has no distribution"),
    }
}

fn session(ctx: &Ctx, s: &Spanned<RawSession>, field: &str) -> Result<SessionDist, ScenarioError> {
    let (x, span) = (s.get_ref(), s.span());
    let err = |e: ParamError| ctx.err(span.clone(), field, format!("{}: expected {}, found {}", e.param, e.expected, e.found));
    let dur = |v: Option<crate::units::DurationNs>, what| need(ctx, v, span.clone(), field, what).map(|d| SimDuration::from_ns(d.0));
    let num = |v: Option<f64>, what| need(ctx, v, span.clone(), field, what);
    // Mean or the family's own scale parameter: a mean is what people know.
    let either = |a: Option<crate::units::DurationNs>, b: Option<crate::units::DurationNs>, names: &str| match (a, b) {
        (Some(_), Some(_)) | (None, None) => Err(ctx.err(span.clone(), field, format!("expected exactly one of {names}"))),
        _ => Ok(()),
    };
    let name = crate::ctx::one_of(SESSION_NAMES, &x.distribution).map_err(|m| ctx.err(span.clone(), field, m))?;
    match name {
        "exponential" => SessionDist::exponential(dur(x.mean, "mean")?).map_err(err),
        "weibull" => {
            either(x.mean, x.scale, "`mean`, `scale`")?;
            let shape = num(x.shape, "shape")?;
            match x.mean {
                Some(m) => SessionDist::weibull_with_mean(shape, SimDuration::from_ns(m.0)),
                None => SessionDist::weibull(shape, dur(x.scale, "scale")?),
            }
            .map_err(err)
        }
        "lognormal" => {
            either(x.mean, x.median, "`mean`, `median`")?;
            let sigma = num(x.sigma, "sigma")?;
            match x.mean {
                Some(m) => SessionDist::log_normal_with_mean(SimDuration::from_ns(m.0), sigma),
                None => SessionDist::log_normal(dur(x.median, "median")?, sigma),
            }
            .map_err(err)
        }
        "pareto" => {
            either(x.mean, x.scale, "`mean`, `scale`")?;
            let shape = num(x.shape, "shape")?;
            match x.mean {
                Some(m) => SessionDist::pareto_with_mean(SimDuration::from_ns(m.0), shape),
                None => SessionDist::pareto(dur(x.scale, "scale")?, shape),
            }
            .map_err(err)
        }
        other => unreachable!("{other:?} is in SESSION_NAMES but has no distribution"),
    }
}
