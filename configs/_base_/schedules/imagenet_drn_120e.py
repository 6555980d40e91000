# The reference ImageNet schedule (the authors' classify.py, github.com/fyu/drn):
# SGD lr 0.1, momentum 0.9, weight
# decay 1e-4, lr x 0.1 every 30 epochs, 120 epochs, batch 256.
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[30, 60, 90], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=120, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr 0.1 is for a total batch of 256; --auto-scale-lr style scaling through mmengine
auto_scale_lr = dict(base_batch_size=256)
