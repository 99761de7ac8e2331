//! Distances on the globe and the latency they imply.

use cdnsim_engine::SimDuration;
use cdnsim_maths::{asin, cos, sin};

/// Mean Earth radius (IUGG), km (docs/references.md, Earth radius).
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance between two points given in degrees (haversine,
/// accurate to well under 1% for the model's purpose).
pub fn great_circle_km(lat1_deg: f64, lon1_deg: f64, lat2_deg: f64, lon2_deg: f64) -> f64 {
    let (p1, p2) = (lat1_deg.to_radians(), lat2_deg.to_radians());
    let dp = p2 - p1;
    let dl = (lon2_deg - lon1_deg).to_radians();
    let (sp, sl) = (sin(dp / 2.0), sin(dl / 2.0));
    let a = sp * sp + cos(p1) * cos(p2) * sl * sl;
    2.0 * EARTH_RADIUS_KM * asin(a.sqrt().min(1.0))
}

/// One-way propagation latency over a route `inflation` times longer than
/// the geodesic, at `km_per_ms` (about 200 km/ms in fibre:
/// docs/references.md, Fibre propagation).
pub fn propagation(distance_km: f64, inflation: f64, km_per_ms: f64) -> SimDuration {
    SimDuration::from_secs_f64(distance_km * inflation / km_per_ms / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_guangzhou_matches_reference() {
        // docs/references.md, Beijing-Guangzhou floor: ~1,900 km, ~9.5 ms
        // one way at 200 km/ms.
        let d = great_circle_km(39.90, 116.40, 23.13, 113.26);
        assert!((1850.0..1950.0).contains(&d), "{d}");
        let ms = propagation(d, 1.0, 200.0).as_ms_f64();
        assert!((9.2..9.8).contains(&ms), "{ms}");
    }

    #[test]
    fn same_point_is_zero_and_antipodes_half_circumference() {
        assert_eq!(great_circle_km(10.0, 20.0, 10.0, 20.0), 0.0);
        let half = great_circle_km(0.0, 0.0, 0.0, 180.0);
        assert!((half - std::f64::consts::PI * EARTH_RADIUS_KM).abs() < 1e-6);
    }
}
