// amlis.hpp: a small header-only C++17 wrapper over the amlis C ABI (include/amlis.h).
//
// Handles are std::unique_ptr with the matching amlis_*_free deleter; every failing call
// throws amlis::Error carrying the AmlisStatus and this thread's message. A Model is
// immutable and may be shared between threads (const methods); a Predictor is one thread's.
#ifndef AMLIS_HPP
#define AMLIS_HPP

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "amlis.h"

namespace amlis {

/// A failed amlis call: the status and the library's message.
class Error : public std::runtime_error {
  public:
    Error(AmlisStatus status, const std::string &message)
        : std::runtime_error(message), status_(status) {}
    AmlisStatus status() const noexcept { return status_; }

  private:
    AmlisStatus status_;
};

namespace detail {
inline void check(AmlisStatus status) {
    if (status != AMLIS_OK) throw Error(status, amlis_last_error_message());
}
struct DatasetDeleter {
    void operator()(AmlisDataset *d) const noexcept { amlis_dataset_free(d); }
};
struct ModelDeleter {
    void operator()(const AmlisModel *m) const noexcept { amlis_model_free(m); }
};
struct PredictorDeleter {
    void operator()(AmlisPredictor *p) const noexcept { amlis_predictor_free(p); }
};
}  // namespace detail

/// A data set read from CSV or made from dense arrays.
class Dataset {
  public:
    static Dataset from_csv(const std::string &path, const std::string &options_json = "") {
        AmlisDataset *d = nullptr;
        detail::check(amlis_dataset_from_csv(
            path.c_str(), options_json.empty() ? nullptr : options_json.c_str(), &d));
        return Dataset(d);
    }
    static Dataset from_dense(const std::vector<double> &x, std::size_t n_rows,
                              std::size_t n_cols, const std::vector<double> *y = nullptr) {
        AmlisDataset *d = nullptr;
        detail::check(amlis_dataset_from_dense(x.data(), n_rows, n_cols,
                                               y ? y->data() : nullptr, y ? y->size() : 0, &d));
        return Dataset(d);
    }
    std::pair<std::size_t, std::size_t> shape() const {
        std::size_t r = 0, c = 0;
        detail::check(amlis_dataset_shape(get(), &r, &c));
        return {r, c};
    }
    const AmlisDataset *get() const noexcept { return handle_.get(); }

  private:
    explicit Dataset(AmlisDataset *d) : handle_(d) {}
    std::unique_ptr<AmlisDataset, detail::DatasetDeleter> handle_;
};

class Predictor;

/// A fitted model (preprocessing + estimator). Shareable between threads.
class Model {
  public:
    static Model train(const Dataset &data, const std::string &config_json) {
        AmlisModel *m = nullptr;
        detail::check(amlis_train(data.get(), config_json.c_str(), &m));
        return Model(m);
    }
    static Model load(const std::string &path) {
        AmlisModel *m = nullptr;
        detail::check(amlis_model_load_file(path.c_str(), &m));
        return Model(m);
    }
    static Model load(const std::vector<std::uint8_t> &bytes) {
        AmlisModel *m = nullptr;
        detail::check(amlis_model_load_buffer(bytes.data(), bytes.size(), &m));
        return Model(m);
    }
    /// Binary, or JSON when the path ends in ".json".
    void save(const std::string &path) const {
        detail::check(amlis_model_save_file(get(), path.c_str()));
    }
    std::vector<std::uint8_t> to_bytes() const {
        std::size_t n = 0;
        detail::check(amlis_model_save_buffer(get(), nullptr, 0, &n));
        std::vector<std::uint8_t> bytes(n);
        detail::check(amlis_model_save_buffer(get(), bytes.data(), bytes.size(), &n));
        return bytes;
    }
    std::size_t n_features() const {
        std::size_t n = 0;
        detail::check(amlis_model_n_features(get(), &n));
        return n;
    }
    std::size_t n_classes() const {
        std::size_t n = 0;
        detail::check(amlis_model_n_classes(get(), &n));
        return n;
    }
    std::string info_json() const {
        std::size_t n = 0;
        detail::check(amlis_model_info_json(get(), nullptr, 0, &n));
        std::string text(n, '\0');
        detail::check(amlis_model_info_json(get(), &text[0], text.size(), &n));
        text.resize(n - 1);  // drop the NUL
        return text;
    }
    /// Row-major raw rows in input-column order; one value or n_classes values per row.
    std::vector<double> predict(const std::vector<double> &x, std::size_t n_rows,
                                AmlisOutput kind = AMLIS_OUTPUT_VALUE) const {
        std::size_t width = kind == AMLIS_OUTPUT_PROBA ? n_classes() : 1;
        std::vector<double> out(n_rows * width);
        detail::check(amlis_predict(get(), kind, x.data(), n_rows,
                                    n_rows ? x.size() / n_rows : n_features(), out.data(),
                                    out.size()));
        return out;
    }
    std::vector<double> predict(const Dataset &d, AmlisOutput kind = AMLIS_OUTPUT_VALUE) const {
        std::size_t width = kind == AMLIS_OUTPUT_PROBA ? n_classes() : 1;
        std::vector<double> out(d.shape().first * width);
        detail::check(amlis_predict_dataset(get(), kind, d.get(), out.data(), out.size()));
        return out;
    }
    inline Predictor predictor(AmlisOutput kind = AMLIS_OUTPUT_VALUE) const;
    const AmlisModel *get() const noexcept { return handle_.get(); }

  private:
    explicit Model(AmlisModel *m) : handle_(m, detail::ModelDeleter{}) {}
    std::shared_ptr<const AmlisModel> handle_;
};

/// Single-row prediction without allocation; one per thread.
class Predictor {
  public:
    /// Writes one value, or n_classes values, for one raw row into `out`.
    void predict_row(const double *row, std::size_t n_cols, double *out, std::size_t out_len) {
        detail::check(amlis_predict_row(handle_.get(), row, n_cols, out, out_len));
    }
    double predict_value(const std::vector<double> &row) {
        double v = 0;
        predict_row(row.data(), row.size(), &v, 1);
        return v;
    }

  private:
    friend class Model;
    explicit Predictor(AmlisPredictor *p) : handle_(p) {}
    std::unique_ptr<AmlisPredictor, detail::PredictorDeleter> handle_;
};

inline Predictor Model::predictor(AmlisOutput kind) const {
    AmlisPredictor *p = nullptr;
    detail::check(amlis_predictor_new(get(), kind, &p));
    return Predictor(p);
}

}  // namespace amlis

#endif
