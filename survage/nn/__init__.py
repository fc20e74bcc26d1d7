"""Neural-network building blocks: modality branches, fusion under missing modalities, heads.

* :class:`ModalityBranch` - the branch protocol (``forward(x) -> (n, out_features)``);
  :class:`MLPBranch` for tabular modalities.
* :class:`ConcatFusion`, :class:`GatedFusion` - fusion with a per-row presence mask;
  :func:`drop_modalities` / :class:`ModalityDropout` - modality dropout in training.
* :class:`CoxHead`, :class:`GompertzHead` - survival heads.
* :class:`MultimodalSurvivalNet`, :func:`build_network` - the assembled multi-task network.
"""

from survage.nn.branches import MLPBranch, ModalityBranch
from survage.nn.fusion import ConcatFusion, GatedFusion, ModalityDropout, drop_modalities
from survage.nn.heads import CoxHead, GompertzHead
from survage.nn.network import MultimodalSurvivalNet, as_mask, build_network

__all__ = ["ConcatFusion", "CoxHead", "GatedFusion", "GompertzHead", "MLPBranch", "ModalityBranch",
           "ModalityDropout", "MultimodalSurvivalNet", "as_mask", "build_network", "drop_modalities"]
