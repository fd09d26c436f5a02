//! Q-matrix files: no panic on any bytes.
#![no_main]

use attune_data::QMatrix;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(q) = QMatrix::parse("fuzz".as_ref(), data) {
        assert!(!q.is_empty());
    }
});
