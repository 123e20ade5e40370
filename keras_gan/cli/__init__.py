"""The train.py program, in the order it runs: its flags (`flags`), the run
directory it resumes or starts (`runs`), the plan checked before anything is
built (`plan`), the compiled GAN with its data and callbacks (`build`), the
files it leaves (`outputs`) and what it prints (`report`); `program` runs them."""
