"""Models: MTMixG-Net, its ablations and the DeepCRE and DeepPlantCRE baselines.

Every model maps a float32 one-hot batch (N, 4, seq_len) to logits (N, n_outputs); the sigmoid
lives in the loss. `architectures.build_model(ModelConfig(...))` builds the architecture named by
`cfg.arch` (see `mtmixg.core.names.ARCHITECTURES`): blocks live in their own modules (cnn,
attention, mamba, gate, mixer, head, mask, deepcre, deepplantcre) and `architectures` wires them.
Import each name from the module that defines it (ModelConfig from mtmixg.core.model_config).
"""
