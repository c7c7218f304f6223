"""Models: MTMixG-Net, its ablation variants and the DeepCRE and DeepPlantCRE baselines.

Every model maps a float32 one-hot batch (N, 4, seq_len) to logits (N, n_outputs); the sigmoid
lives in the loss. `build_model(ModelConfig(...))` builds the variant named by `cfg.variant`
(see `VARIANTS`): blocks live in their own modules (cnn, attention, mamba, gate, mixer, head, mask,
deepcre, deepplantcre) and `variants` wires them.
"""

from ..core.model_config import ModelConfig
from ..core.names import VARIANTS
from .mamba import BACKENDS, Mamba
from .variants import build_model

__all__ = ["BACKENDS", "VARIANTS", "Mamba", "ModelConfig", "build_model"]
