use amlis::data::DenseDataset;
use amlis::models::cluster::Dbscan;
use amlis::models::neighbors::*;
use amlis::traits::Trainer;
use ndarray::Array2;
use rand::Rng;
fn main() {
    let mut r = amlis::common::rng::for_task(1, 0);
    for (n, d) in [(50_000usize, 3usize), (20_000, 20)] {
        let x = Array2::from_shape_fn((n, d), |(i, _)| {
            (i % 7) as f64 * 3.0 + r.gen_range(-1.0..1.0)
        });
        let data = DenseDataset::unsupervised(x.clone()).unwrap();
        for alg in [
            Algorithm::Auto,
            Algorithm::Brute,
            Algorithm::KdTree,
            Algorithm::BallTree,
        ] {
            let t = std::time::Instant::now();
            let m = Dbscan::default()
                .eps(0.3)
                .algorithm(alg)
                .fit(&data)
                .unwrap();
            let t1 = t.elapsed();
            let t = std::time::Instant::now();
            let l = LocalOutlierFactor::default()
                .algorithm(alg)
                .fit(&data)
                .unwrap();
            println!(
                "n={n} d={d} {alg:?}: dbscan {:?} ({} clusters) lof {:?} {}",
                t1,
                m.n_clusters(),
                t.elapsed(),
                l.offset
            );
        }
    }
}
