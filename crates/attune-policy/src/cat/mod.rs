//! Computerized adaptive testing: item banks, ability estimation, selection rules, exposure
//! control, stopping rules, and simulation with the metrics the CAT literature reports.

mod bank;
mod estimate;
mod select;
mod simulate;

pub use bank::{BankItem, BankModel, ItemBank, normal as standard_normal};
pub use estimate::{Estimate, Estimator, THETA_RANGE};
pub use select::{ControlledSelector, Exposure, ItemSelector, Selector, select};
pub use simulate::{CatConfig, CatReport, calibrate_sympson_hetter, simulate};

#[cfg(test)]
mod tests {
    use super::*;

    fn config(selector: Selector) -> CatConfig {
        CatConfig { selector, estimator: Estimator::Eap, exposure: Exposure::None, length: 20, se_stop: None, seed: 5 }
    }

    #[test]
    fn max_information_beats_random_by_a_quarter_after_twenty_items() {
        let bank = ItemBank::simulate(BankModel::TwoPl, 300, 1);
        let random = simulate(&bank, &config(Selector::Random), 400);
        let mfi = simulate(&bank, &config(Selector::Mfi), 400);
        let (r, m) = (random.rmse_at[&20], mfi.rmse_at[&20]);
        assert!(m <= 0.75 * r, "MFI {m} vs random {r}");
        // Adaptive tests reuse the best items: far more exposure and overlap than random.
        assert!(mfi.max_exposure > 2.0 * random.max_exposure);
        assert!(mfi.mean_overlap > random.mean_overlap);
        // Random tests overlap by about length / bank size.
        assert!((random.mean_overlap - 20.0 / 300.0).abs() < 0.01, "{}", random.mean_overlap);
        // Errors shrink as the test goes on.
        assert!(mfi.rmse_at[&20] < mfi.rmse_at[&5] && mfi.rmse_at[&5] < mfi.rmse_at[&1]);
    }

    #[test]
    fn exposure_control_caps_the_most_used_items() {
        let bank = ItemBank::simulate(BankModel::TwoPl, 300, 2);
        let base = config(Selector::Mfi);
        let free = simulate(&bank, &base, 400);
        let k = calibrate_sympson_hetter(&bank, &base, 0.25, 400, 10);
        let sh = simulate(&bank, &CatConfig { exposure: Exposure::SympsonHetter { k }, ..base.clone() }, 400);
        assert!(sh.max_exposure < free.max_exposure, "{} vs {}", sh.max_exposure, free.max_exposure);
        assert!(sh.max_exposure <= 0.25 + 0.08, "{}", sh.max_exposure);
        let rq = simulate(&bank, &CatConfig { exposure: Exposure::Randomesque { k: 5 }, ..base }, 400);
        assert!(rq.max_exposure < free.max_exposure);
    }

    #[test]
    fn standard_error_stopping_shortens_tests() {
        let bank = ItemBank::simulate(BankModel::ThreePl, 300, 3);
        let cfg = CatConfig { se_stop: Some(0.4), length: 40, ..config(Selector::Mfi) };
        let r = simulate(&bank, &cfg, 200);
        assert!(r.mean_length < 40.0 && r.mean_length > 5.0, "{}", r.mean_length);
        assert_eq!(r.rmse_at.len(), 40);
    }

    #[test]
    fn simulations_are_reproducible() {
        let bank = ItemBank::simulate(BankModel::TwoPl, 100, 4);
        assert_eq!(simulate(&bank, &config(Selector::Kli), 50), simulate(&bank, &config(Selector::Kli), 50));
    }
}
