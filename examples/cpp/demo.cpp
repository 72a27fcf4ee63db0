// amlis from C++ with the RAII wrapper: train, save, load, predict; errors as exceptions.
//
//   cargo build
//   c++ -std=c++17 -Iinclude -Iexamples/cpp examples/cpp/demo.cpp -Ltarget/debug -lamlis -o demo
//   LD_LIBRARY_PATH=target/debug ./demo data/penguins.csv /tmp/penguins.json
#include <cmath>
#include <iostream>

#include "amlis.hpp"

int main(int argc, char **argv) {
    const std::string csv = argc > 1 ? argv[1] : "data/penguins.csv";
    const std::string path = argc > 2 ? argv[2] : "penguins.json";
    try {
        auto data = amlis::Dataset::from_csv(csv, R"({"target": "species"})");
        auto model = amlis::Model::train(data, R"({
            "model": {"type": "dummy_classifier"},
            "preprocess": [{"type": "simple_imputer", "strategy": "most_frequent"},
                           {"type": "one_hot_encoder", "handle_unknown": "ignore"},
                           {"type": "standard_scaler"}]})");
        model.save(path);  // JSON, from the extension
        auto loaded = amlis::Model::load(path);
        auto same = amlis::Model::load(loaded.to_bytes());

        std::vector<double> rows = {1, 46.1, 13.2, 211.0, 4500.0, 1, 2007,
                                    0, 39.1, NAN, 181.0, 3750.0, NAN, 2007};
        auto proba = loaded.predict(rows, 2, AMLIS_OUTPUT_PROBA);
        auto again = same.predict(rows, 2, AMLIS_OUTPUT_PROBA);
        std::cout << "classes: " << loaded.n_classes() << ", first row P(class 0) = " << proba[0]
                  << (proba == again ? " (buffer round trip identical)" : " (MISMATCH)") << "\n";
        auto by_name = loaded.predict(data);
        std::cout << "predicted " << by_name.size() << " training rows by column name\n";

        auto predictor = loaded.predictor();
        std::vector<double> row(rows.begin(), rows.begin() + 7);
        std::cout << "single row class index: " << predictor.predict_value(row) << "\n";

        try {
            row.pop_back();
            predictor.predict_value(row);
            std::cerr << "expected an exception\n";
            return 1;
        } catch (const amlis::Error &e) {
            std::cout << "caught status " << e.status() << ": " << e.what() << "\n";
            if (e.status() != AMLIS_SHAPE_MISMATCH) return 1;
        }
        return proba == again && by_name.size() == 344 ? 0 : 1;
    } catch (const amlis::Error &e) {
        std::cerr << "amlis error " << e.status() << ": " << e.what() << "\n";
        return 1;
    }
}
