"""Train a GAN on MNIST with `model.fit`, then export the generator: `python train.py --help`.

The program is keras_gan/train.py (also `python -m keras_gan.train`); its
steps are in keras_gan/cli/.
"""

import sys

from keras_gan.train import main

if __name__ == "__main__":
    sys.exit(main())
