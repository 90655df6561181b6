//! `loadtest`: rush-hour simulator for etal (being written).

fn main() {
    println!("loadtest: not built yet");
}
