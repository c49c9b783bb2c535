// model.summary(): the text Keras 3 prints for the same models (keras/src/utils/summary_utils.py
// rendered by rich with no terminal), written out by hand below. Parameter counts: Dense(n -> m)
// has n * m + m; every weight is float32 (4 bytes).
#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include "keras/summary_table.h"

namespace trainyard::keras {
namespace {

Sequential classifier() {
  return Sequential({layers::Dense(16, {.activation = "tanh", .name = "hidden"}),
                     layers::Dense(4, {.name = "logits"})},
                    "classifier");
}

TEST(SummaryTest, UnbuiltSequentialShowsUnknownShapes) {
  EXPECT_EQ(classifier().summary(),
            R"(Model: "classifier"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
│ hidden (Dense)                       │ ?                           │     0 (unbuilt) │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ logits (Dense)                       │ ?                           │     0 (unbuilt) │
└──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
 Total params: 0 (0.00 B)
 Trainable params: 0 (0.00 B)
 Non-trainable params: 0 (0.00 B)
)");
}

TEST(SummaryTest, BuiltSequential) {
  // hidden: 4 * 16 + 16 = 80; logits: 16 * 4 + 4 = 68; 148 * 4 bytes = 592 bytes.
  Sequential model = classifier();
  model.build(Shape{-1, 4});
  EXPECT_EQ(model.summary(),
            R"(Model: "classifier"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
│ hidden (Dense)                       │ (None, 16)                  │              80 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ logits (Dense)                       │ (None, 4)                   │              68 │
└──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
 Total params: 148 (592.00 B)
 Trainable params: 148 (592.00 B)
 Non-trainable params: 0 (0.00 B)
)");
}

TEST(SummaryTest, OptimizerParamsOnceTheOptimizerIsBuilt) {
  // Adam keeps two slots per weight, plus its int64 iteration count (8 bytes) and float32 learning
  // rate: 1 + 1 + 2 * 148 = 298 params, 8 + 4 + 2 * 592 = 1196 bytes (1.17 KB).
  // Total: 148 + 298 = 446 params, 592 + 1196 = 1788 bytes (1.75 KB).
  Sequential model = classifier();
  model.compile({.optimizer = "adam", .loss = "mse"});
  model.fit(Tensor::zeros(Shape{8, 4}), Tensor::zeros(Shape{8, 4}), {.verbose = 0});
  EXPECT_EQ(model.summary(),
            R"(Model: "classifier"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
│ hidden (Dense)                       │ (None, 16)                  │              80 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ logits (Dense)                       │ (None, 4)                   │              68 │
└──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
 Total params: 446 (1.75 KB)
 Trainable params: 148 (592.00 B)
 Non-trainable params: 0 (0.00 B)
 Optimizer params: 298 (1.17 KB)
)");
}

Functional two_heads() {
  auto a = Input({4}, "a");
  auto b = Input({3}, "b");
  auto shared = layers::Dense(5, {.name = "shared"});
  auto from_a = shared(a);
  auto from_b = shared(layers::Dense(4, {.name = "proj"})(b));
  auto sum = layers::Add("add")({from_a, from_b});
  auto out1 = layers::Dense(3, {.name = "out1"})(layers::Concatenate(-1, "cat")({from_a, sum}));
  auto out2 = layers::Dense(1, {.name = "out2"})(sum);
  return Functional({a, b}, {out1, out2}, "two_heads");
}

TEST(SummaryTest, FunctionalWithASharedLayerShowsConnections) {
  // proj 3 * 4 + 4 = 16; shared 4 * 5 + 5 = 25 (counted once); out1 10 * 3 + 3 = 33;
  // out2 5 * 1 + 1 = 6; total 80 params, 320 bytes. The shared layer's second call is its node 1:
  // "shared[1][0]".
  EXPECT_EQ(two_heads().summary(),
            R"(Model: "two_heads"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                  ┃ Output Shape              ┃         Param # ┃ Connected to               ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ b (InputLayer)                │ (None, 3)                 │               0 │ -                          │
├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
│ a (InputLayer)                │ (None, 4)                 │               0 │ -                          │
├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
│ proj (Dense)                  │ (None, 4)                 │              16 │ b[0][0]                    │
├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
│ shared (Dense)                │ (None, 5)                 │              25 │ a[0][0], proj[0][0]        │
├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
│ add (Add)                     │ (None, 5)                 │               0 │ shared[0][0], shared[1][0] │
├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
│ cat (Concatenate)             │ (None, 10)                │               0 │ shared[0][0], add[0][0]    │
├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
│ out1 (Dense)                  │ (None, 3)                 │              33 │ cat[0][0]                  │
├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
│ out2 (Dense)                  │ (None, 1)                 │               6 │ add[0][0]                  │
└───────────────────────────────┴───────────────────────────┴─────────────────┴────────────────────────────┘
 Total params: 80 (320.00 B)
 Trainable params: 80 (320.00 B)
 Non-trainable params: 0 (0.00 B)
)");
}

TEST(SummaryTest, NarrowLinesWrapAtSpaces) {
  // line_length 60: columns int(0.3*60)=18, 33-18=15, 44-33=11, 60-44=16, each padded by 2,
  // then 3 * 4 + 1 = 13 cells taken back in turns of round(13/4)=3, round(10/3)=3,
  // round(7/2)=4 (half to even) and 3: 17, 14, 9, 15.
  EXPECT_EQ(two_heads().summary({.line_length = 60}),
            R"(Model: "two_heads"
┏━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)    ┃ Output Shape ┃ Param # ┃ Connected to  ┃
┡━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ b (InputLayer)  │ (None, 3)    │       0 │ -             │
├─────────────────┼──────────────┼─────────┼───────────────┤
│ a (InputLayer)  │ (None, 4)    │       0 │ -             │
├─────────────────┼──────────────┼─────────┼───────────────┤
│ proj (Dense)    │ (None, 4)    │      16 │ b[0][0]       │
├─────────────────┼──────────────┼─────────┼───────────────┤
│ shared (Dense)  │ (None, 5)    │      25 │ a[0][0],      │
│                 │              │         │ proj[0][0]    │
├─────────────────┼──────────────┼─────────┼───────────────┤
│ add (Add)       │ (None, 5)    │       0 │ shared[0][0], │
│                 │              │         │ shared[1][0]  │
├─────────────────┼──────────────┼─────────┼───────────────┤
│ cat             │ (None, 10)   │       0 │ shared[0][0], │
│ (Concatenate)   │              │         │ add[0][0]     │
├─────────────────┼──────────────┼─────────┼───────────────┤
│ out1 (Dense)    │ (None, 3)    │      33 │ cat[0][0]     │
├─────────────────┼──────────────┼─────────┼───────────────┤
│ out2 (Dense)    │ (None, 1)    │       6 │ add[0][0]     │
└─────────────────┴──────────────┴─────────┴───────────────┘
 Total params: 80 (320.00 B)
 Trainable params: 80 (320.00 B)
 Non-trainable params: 0 (0.00 B)
)");
}

TEST(SummaryTest, FunctionalChainUsesTheSequentialLayoutWithItsInputLayer) {
  // c: 6 * 3 + 3 = 21; d: 3 * 2 + 2 = 8.
  auto x = Input({6}, "x");
  Functional model(x, layers::Dense(2, {.name = "d"})(layers::Dense(3, {.name = "c"})(x)), "chain");
  EXPECT_EQ(model.summary(),
            R"(Model: "chain"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
│ x (InputLayer)                       │ (None, 6)                   │               0 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ c (Dense)                            │ (None, 3)                   │              21 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ d (Dense)                            │ (None, 2)                   │               8 │
└──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
 Total params: 29 (116.00 B)
 Trainable params: 29 (116.00 B)
 Non-trainable params: 0 (0.00 B)
)");
}

TEST(SummaryTest, LongNamesAreCutWithAnEllipsis) {
  auto p = Input({2}, "a_very_long_input_name_that_goes_on");
  auto q = Input({2}, "q");
  auto joined = layers::Concatenate(-1, "merge_everything_together_please")({p, q, p, q});
  EXPECT_EQ(Functional({p, q}, joined, "wrap").summary(),
            R"(Model: "wrap"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                  ┃ Output Shape              ┃         Param # ┃ Connected to               ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ a_very_long_input_name_that_… │ (None, 2)                 │               0 │ -                          │
│ (InputLayer)                  │                           │                 │                            │
├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
│ q (InputLayer)                │ (None, 2)                 │               0 │ -                          │
├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
│ merge_everything_together_pl… │ (None, 8)                 │               0 │ a_very_long_input_name_th… │
│ (Concatenate)                 │                           │                 │ q[0][0],                   │
│                               │                           │                 │ a_very_long_input_name_th… │
│                               │                           │                 │ q[0][0]                    │
└───────────────────────────────┴───────────────────────────┴─────────────────┴────────────────────────────┘
 Total params: 0 (0.00 B)
 Trainable params: 0 (0.00 B)
 Non-trainable params: 0 (0.00 B)
)");
}

TEST(SummaryTest, NumbersAndSizesAsKerasFormatsThem) {
  EXPECT_EQ(detail::with_thousands(0), "0");
  EXPECT_EQ(detail::with_thousands(999), "999");
  EXPECT_EQ(detail::with_thousands(1000), "1,000");
  EXPECT_EQ(detail::with_thousands(1234567), "1,234,567");
  EXPECT_EQ(detail::readable_memory_size(0), "0.00 B");
  EXPECT_EQ(detail::readable_memory_size(1023), "1023.00 B");
  EXPECT_EQ(detail::readable_memory_size(1024), "1.00 KB");
  EXPECT_EQ(detail::readable_memory_size(3.5 * 1024 * 1024), "3.50 MB");
  EXPECT_EQ(detail::format_summary_shape(Shape{-1, 28, 28, 1}), "(None, 28, 28, 1)");
  EXPECT_EQ(detail::format_summary_shape(Shape{-1}), "(None)");
}

TEST(SummaryTest, TooNarrowIsAValueError) {
  EXPECT_THROW(classifier().summary({.line_length = 8}), ValueError);
  EXPECT_THROW(classifier().summary({.positions = {0.5, 1.0}}), ValueError);
}

}  // namespace
}  // namespace trainyard::keras
