package models

import (
	"bufio"
	_ "embed"
	"strings"
)

//go:embed imagenet-classes.txt
var imagenetClasses string

// ImageNetClasses returns the 1000 ImageNet class names, index = class id
// (the sorted-wnid order used by Caffe and torchvision).
func ImageNetClasses() []string {
	var names []string
	s := bufio.NewScanner(strings.NewReader(imagenetClasses))
	for s.Scan() {
		names = append(names, s.Text())
	}
	return names
}
