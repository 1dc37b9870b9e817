"""Proto comments by full name (file:<name>: the header of a file); generated, do not edit."""
COMMENTS = {'Face': "One face. Coordinates assume a mirrored image: `left_eye` is the person's left eye, which appears on the "
         'right side of the picture.',
 'Face.movement_direction': 'Direction of the head movement in degrees (0 = right, 90 = up).',
 'Face.texture_liveness_score': '0 when not computed.',
 'ImageData': 'One uploaded image and the tags that go with it (e.g. a liveness challenge direction: "up", "down", '
              '"left", "right").',
 'ImageProperties': 'What the service found in one image.',
 'ImageProperties.frame_number': 'For video liveness: the frame this image was taken from.',
 'ImageProperties.quality_score': 'Overall quality in [0, 1]; the lowest score of the checks below.',
 'ImageProperties.rotated': 'Degrees the image was rotated (from its EXIF orientation) before analysis.',
 'QualityAssessment': 'The result of one quality check: score in [0, 1], higher is better.',
 'bioid.services.v1.BioIDWebService.LivenessDetection': 'One image: passive (texture) liveness; two or more: '
                                                        'active liveness from the motion between them; a direction '
                                                        'tag on the second image asks for challenge-response.',
 'bioid.services.v1.BioIDWebService.PhotoVerify': 'Compares live images with an ID photo.',
 'bioid.services.v1.BioIDWebService.VideoLivenessDetection': 'Active liveness from the frames of a short video of '
                                                             'the face.',
 'bioid.services.v1.FaceEnrollmentResponse.enrolled_images': 'Images whose feature vectors were added by this '
                                                             'call.',
 'bioid.services.v1.FaceRecognition.DeleteTemplate': 'Deletes the template of classId; NOT_FOUND when there is '
                                                     'none.',
 'bioid.services.v1.FaceRecognition.Enroll': "Creates a template for classId, or adds the new images' feature "
                                             'vectors to an existing one.',
 'bioid.services.v1.FaceRecognition.GetClassCount': "Number of templates in the caller's partition holding all "
                                                    'given tags.',
 'bioid.services.v1.FaceRecognition.GetTemplateStatus': 'Whether classId has a template, with its tags, enrollment '
                                                        'time, encoder version and, on request, the thumbnails of '
                                                        'its enrolled faces.',
 'bioid.services.v1.FaceRecognition.Search': "Finds the templates of the caller's partition that match each image.",
 'bioid.services.v1.FaceRecognition.SetTemplateTags': 'Replaces all tags of a template.',
 'bioid.services.v1.FaceRecognition.Verify': 'Compares one image with the template of classId.',
 'bioid.services.v1.FaceSearchRequest.tags': 'Only templates holding all of these tags are searched.',
 'bioid.services.v1.FaceSearchRequest.top_matches': 'Return the best matches whatever their score, not only '
                                                    'accepted ones.',
 'bioid.services.v1.FaceSearchResponse.SearchResult': 'Matches for one input image, best first.',
 'bioid.services.v1.FaceSearchResponse.result': 'One entry per input image, in input order.',
 'bioid.services.v1.FaceTemplateStatus.Thumbnail.image': 'PNG image of the aligned face.',
 'bioid.services.v1.FaceTemplateStatusRequest.download_thumbnails': 'Also return the PNG thumbnails of the '
                                                                    'enrolled faces.',
 'bioid.services.v1.FaceVerificationResponse.score': 'Similarity in ]0, 1]; higher means more alike.',
 'bioid.services.v1.PhotoVerifyResponse.AccuracyLevel': 'Levels by false-acceptance rate.',
 'bioid.services.v1.PhotoVerifyResponse.AccuracyLevel.LEVEL_1': 'FAR 0.5%',
 'bioid.services.v1.PhotoVerifyResponse.AccuracyLevel.LEVEL_2': 'FAR 0.25%',
 'bioid.services.v1.PhotoVerifyResponse.AccuracyLevel.LEVEL_3': 'FAR 0.1%',
 'bioid.services.v1.PhotoVerifyResponse.AccuracyLevel.LEVEL_4': 'FAR 0.01%',
 'bioid.services.v1.PhotoVerifyResponse.AccuracyLevel.LEVEL_5': 'FAR 0.001%',
 'file:bioidwebservice.proto': 'BWS 3 liveness detection and PhotoVerify.',
 'file:bwsmessages.proto': 'Messages shared by the BWS 3 services. Declared without a package on purpose: existing '
                           'BWS clients were generated from descriptors named `.ImageData`, `.JobStatus`, ... and '
                           'reflection must show the same names.',
 'file:facerecognition.proto': 'BWS 3 face recognition: enrollment, 1:1 verification and 1:N search against '
                               'templates addressed by BCID storage/partition/classId, where the storage and '
                               'partition come from the authenticated client.'}
