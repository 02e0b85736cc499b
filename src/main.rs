use spillscope::engine::{input::Input, session};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let input = Input::load(std::path::Path::new(&args[1])).unwrap();
    let f = input.select(&args[2]).unwrap().index;
    let t = session::trace_function(&input, f, session::Settings::default(), Default::default()).unwrap();
    let tr = &t.traced.trace;
    eprintln!("steps {} unparsed {} {:#?} checker {:?} bundles {} final {} slots {:?}", tr.steps.len(), tr.unparsed, tr.unparsed_samples, t.traced.checker, tr.initial.bundles.len(), tr.final_state.is_some(), tr.spill_slots);
    let fin = tr.final_state.as_ref().unwrap();
    let st = t.replay.state_at(t.replay.len());
    let mut bad = 0;
    for (i, b) in fin.bundles.iter().enumerate() {
        let mut a: Vec<_> = b.segs.iter().map(|s| (s.from, s.to)).collect();
        let mut r: Vec<_> = st.bundles.get(i).map(|x| x.segs.iter().map(|s| (s.from, s.to)).collect()).unwrap_or_default();
        a.sort(); r.sort();
        let status = st.bundles.get(i).map(|x| x.status);
        let ok_alloc = match status { Some(spillscope::engine::replay::Status::Allocated(p)) => b.alloc == p.text(), _ => b.alloc == "none" };
        if a != r || !ok_alloc || (!a.is_empty() && !matches!(status, Some(spillscope::engine::replay::Status::Allocated(_)) | Some(spillscope::engine::replay::Status::Spilled(_)))) {
            bad += 1;
            if bad < 10 { eprintln!("bundle {i}: dump {:?} alloc {} | replay {:?} {:?}", a.iter().map(|(x,y)| format!("{}..{}", x.text(), y.text())).collect::<Vec<_>>(), b.alloc, r.iter().map(|(x,y)| format!("{}..{}", x.text(), y.text())).collect::<Vec<_>>(), status); }
        }
    }
    eprintln!("mismatches {bad} of {}", fin.bundles.len());
}
