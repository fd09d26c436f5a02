//! Skill-name maps (`_skill_mapping.txt` and `_qid_sid_sname`): no panic on any bytes; the
//! question-number map holds only question numbers with names.
#![no_main]

use attune_data::parse_skill_names;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_skill_names("fuzz_skill_mapping.txt".as_ref(), data);
    if let Ok(names) = parse_skill_names("fuzz_qid_sid_sname".as_ref(), data) {
        assert!(names.iter().all(|(qid, name)| qid.parse::<u64>().is_ok() && !name.is_empty()));
    }
});
